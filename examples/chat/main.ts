// `npm run example:chat -- [--brokers host:port,...]`: with --brokers, one chat node (start several);
// without, a local Kafka broker and --nodes nodes, each its own OS process, until Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { ValidationError } from '../../src/index.js'
import { settleWithin } from './bounded.js'
import { decodeOrThrow } from './messages.js'
import { type ChatNodeConfig, ChatNodeConfigCodec, startChatNode } from './node.js'
import { chatTopics, ensureChatTopics } from './topics.js'

const usage = `Usage: npm run example:chat -- [options]

Without --brokers: starts a local Kafka broker (needs 'npm run services:install') and --nodes chat
nodes as separate processes, and prints their HTTP addresses. With --brokers: runs one chat node
(start it in several terminals). Ctrl-C stops (nodes hand their shards over first).

  --brokers LIST       host:port,...   (or KDP_BROKERS)
  --nodes N            local mode: how many nodes (default 3)
  --port N             HTTP port (default 0: a free one; local mode: N, N+1, ...)
  --host HOST          HTTP host (default 127.0.0.1)
  --partitions N       shards, when the topics are created here (default 8)
  --history K          messages kept per conversation (default 100)
  --app NAME           prefix of groups and transactional ids (default chat)
  --topic-prefix P     prefix of the topic names (default none)
  --node-id ID         this node's id (default host-pid-random)
  -h, --help`

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage}\n`)
  process.exit(2)
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        brokers: { type: 'string' },
        nodes: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        partitions: { type: 'string' },
        history: { type: 'string' },
        app: { type: 'string' },
        'topic-prefix': { type: 'string' },
        'node-id': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
})()
if (values.help) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}

// Digits become numbers; anything else stays a string, so the codec names the bad flag.
const num = (text: string | undefined): number | string | undefined =>
  text === undefined ? undefined : /^\d+$/.test(text) ? Number(text) : text
const brokersText = values.brokers ?? process.env.KDP_BROKERS
const raw = {
  brokers: brokersText?.split(',').map((b) => b.trim()),
  nodeId: values['node-id'],
  app: values.app,
  topicPrefix: values['topic-prefix'],
  partitions: num(values.partitions),
  historySize: num(values.history),
  httpHost: values.host,
  httpPort: num(values.port),
}
const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined))

function decodeConfig(input: Record<string, unknown>): ChatNodeConfig {
  try {
    return decodeOrThrow(ChatNodeConfigCodec, input, 'flags')
  } catch (error) {
    if (error instanceof ValidationError) return fail(error.message)
    throw error
  }
}

async function runNode(config: ChatNodeConfig): Promise<void> {
  const node = await startChatNode(config)
  process.stdout.write(
    `chat node ${node.nodeId} ready: ${node.httpAddress} (${node.shards} shards in the cluster)\n`,
  )
  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // A second Ctrl-C exits at once; a SIGTERM during the stop (local mode sends one after the
      // terminal's SIGINT reached the whole process group) changes nothing.
      if (stopping && signal === 'SIGINT') process.exit(1)
      if (stopping) return
      stopping = true
      void node.stop().then(() => process.exit(0))
    })
  }
}

async function runLocal(): Promise<void> {
  const nodes = num(values.nodes) ?? 3
  if (typeof nodes !== 'number' || nodes < 1)
    fail(`--nodes must be a positive integer, got '${values.nodes}'`)
  const basePort = typeof defined.httpPort === 'number' ? defined.httpPort : 0
  decodeConfig({ ...defined, brokers: ['127.0.0.1:1'] })
  process.stdout.write('starting a local Kafka broker...\n')
  const broker = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./localBroker.ts', import.meta.url).pathname],
    {
      detached: true,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const bootstrap = await new Promise<string>((resolve, reject) => {
    createInterface({ input: broker.stdout! }).on('line', (line) => {
      if (line.startsWith('{"bootstrap"')) resolve((JSON.parse(line) as { bootstrap: string }).bootstrap)
    })
    broker.once('exit', (code) => reject(new Error(`the local broker exited (${code}) before it was ready`)))
  })
  const kafka = { bootstrap, brokers: bootstrap.split(',') }
  const client = new Kafka({ brokers: [...kafka.brokers], logLevel: logLevel.NOTHING })
  const admin = client.admin()
  await admin.connect()
  const topics = chatTopics(values['topic-prefix'])
  // Created once here so that the nodes do not race for it.
  const shards = await ensureChatTopics(
    admin,
    topics,
    typeof defined.partitions === 'number' ? defined.partitions : 8,
  )
  await admin.disconnect()
  process.stdout.write(
    `Kafka broker: ${kafka.bootstrap}; ${shards} shards; topics ${Object.values(topics).join(', ')}\n`,
  )

  const script = new URL('./main.ts', import.meta.url).pathname
  const children: ChildProcess[] = []
  for (let i = 1; i <= nodes; i++) {
    const args = ['--brokers', kafka.bootstrap, '--node-id', `chat-${i}`]
    if (basePort > 0) args.push('--port', String(basePort + i - 1))
    for (const flag of ['host', 'history', 'app', 'topic-prefix'] as const) {
      const value = values[flag]
      if (value !== undefined) args.push(`--${flag}`, value)
    }
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, KDP_LOG_LEVEL: process.env.KDP_LOG_LEVEL ?? 'warn' },
    })
    createInterface({ input: child.stdout! }).on('line', (line) =>
      process.stdout.write(`[chat-${i}] ${line}\n`),
    )
    children.push(child)
  }
  process.stdout.write(
    `\nTry it (another terminal):\n` +
      `  npm run example:chat:tool -- --brokers ${kafka.bootstrap} send '{"conversationKey":"abc123","sender":"bob","recipients":["ann"],"body":"Hi there!"}'\n` +
      `  npm run example:chat:tool -- --brokers ${kafka.bootstrap} read out\n` +
      `Ctrl-C stops the nodes, then the broker.\n\n`,
  )
  let stopping = false
  const shutdown = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    process.stdout.write('stopping the nodes...\n')
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
        child.kill('SIGTERM')
        if (!(await settleWithin(exited, 15_000))) child.kill('SIGKILL')
      }),
    )
    process.stdout.write('stopping the broker...\n')
    const brokerExited = new Promise<void>((resolve) => broker.once('exit', () => resolve()))
    broker.stdin?.end()
    if (!(await settleWithin(brokerExited, 30_000))) broker.kill('SIGKILL')
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown())
  process.on('SIGTERM', () => void shutdown())
}

if (brokersText === undefined) await runLocal()
else await runNode(decodeConfig(defined))
