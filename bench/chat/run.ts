// `npm run bench:chat -- [--reps 3] [--messages 150000] [--rate 500] [--latency-seconds 15] [--keep-logs] [--only kdp-1,…]`
// The chat example end to end on its own broker: messages/s through 1 and 3 nodes (a backlog
// produced as fast as possible, until its last output is visible to a read_committed consumer), and
// input-to-output latency p50/p99 at a fixed rate below capacity. Baseline in the same run: a plain
// kafkajs consume→produce loop without transactions (baseline.ts) on the same data, as a ratio.
// Last, back-to-back transactions with kafkajs's default retry and with the example's.
// Results: bench/results/chat.json.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs'
import { chatTopics, ensureChatTopics } from '../../examples/chat/topics.js'
import { startKafka } from '../../services/kafka.js'
import { cpuSeconds } from '../coordination/procfs.js'
import { ratio, summarize } from '../coordination/stats.js'
import { transactionLoop } from './transactions.js'

const { values } = parseArgs({
  options: {
    reps: { type: 'string' },
    messages: { type: 'string' },
    rate: { type: 'string' },
    'latency-seconds': { type: 'string' },
    'keep-logs': { type: 'boolean' },
    /** Only these parts, e.g. `kdp-1,baseline-3,transactions` (no results file is written then). */
    only: { type: 'string' },
  },
})
const reps = Number(values.reps ?? 3)
const messages = Number(values.messages ?? 150_000)
const rate = Number(values.rate ?? 500)
const latencySeconds = Number(values['latency-seconds'] ?? 15)
const partitions = 6
const conversations = 2000
const bodyBytes = 100
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const now = () => performance.timeOrigin + performance.now()

const broker = await startKafka()
const brokers = [...broker.brokers]
const kafka = new Kafka({ brokers, clientId: 'chat-bench', logLevel: logLevel.NOTHING })
const logDir = mkdtempSync(join(tmpdir(), 'kdp-bench-chat-'))
const children = new Set<ChildProcess>()
const cleanup = async (): Promise<void> => {
  for (const child of children) child.kill('SIGKILL')
  await broker.stop()
  if (!values['keep-logs']) rmSync(logDir, { recursive: true, force: true })
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)))

type Kind = 'kdp' | 'baseline'

function spawnNode(kind: Kind, id: string, args: string[], env: Record<string, string>): ChildProcess {
  const script = kind === 'kdp' ? 'examples/chat/main.ts' : 'bench/chat/baseline.ts'
  // CHAT_BENCH_NODE_ARGS: extra node flags for the measured processes (e.g. --cpu-prof).
  const nodeArgs = process.env.CHAT_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    env: { ...process.env, KDP_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stderr?.pipe(createWriteStream(join(logDir, `${id}.log`)))
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Starts `count` nodes and resolves when every partition is being consumed, stably. */
async function startCluster(kind: Kind, count: number, name: string): Promise<ChildProcess[]> {
  const topics = chatTopics(`${name}.`)
  const nodes: ChildProcess[] = []
  const https: string[] = []
  const assigned = new Map<ChildProcess, number[]>()
  for (let i = 0; i < count; i++) {
    const child =
      kind === 'kdp'
        ? spawnNode(
            kind,
            `${name}-n${i}`,
            [
              '--brokers',
              brokers.join(','),
              '--app',
              name,
              '--topic-prefix',
              `${name}.`,
              '--node-id',
              `n${i}`,
            ],
            {},
          )
        : spawnNode(kind, `${name}-n${i}`, [], {
            KDP_BENCH_CHAT_BASELINE: JSON.stringify({
              brokers,
              groupId: `${name}.baseline`,
              input: topics.input,
              output: topics.output,
            }),
          })
    nodes.push(child)
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const http = / ready: (http:\S+)/.exec(line)?.[1]
        if (http) {
          https.push(http)
          resolve()
        }
        if (line.startsWith('{"assigned"')) {
          assigned.set(child, (JSON.parse(line) as { assigned: number[] }).assigned)
          resolve()
        }
      })
      child.once('exit', (code) => reject(new Error(`${kind} node exited with ${code}; logs in ${logDir}`)))
    })
  }
  // Stable: every partition consumed (kdp: every shard running), the same for two checks in a row.
  let previous = ''
  for (let attempt = 0; attempt < 120; attempt++) {
    await sleep(1000)
    let signature = ''
    if (kind === 'kdp') {
      const shards = (
        await Promise.all(
          https.map(
            async (h) =>
              (
                (await (await fetch(`${h}/shards`)).json()) as {
                  shards: Array<{ shard: number; phase: string }>
                }
              ).shards,
          ),
        )
      ).flat()
      const running = shards.filter((s) => s.phase === 'running').map((s) => s.shard)
      if (running.length === partitions && new Set(running).size === partitions)
        signature = JSON.stringify(running.sort())
    } else {
      const all = [...assigned.values()].flat()
      if (assigned.size === count && all.length === partitions)
        signature = JSON.stringify([...assigned.values()])
    }
    if (signature && signature === previous) return nodes
    previous = signature
  }
  throw new Error(`${kind} × ${count} did not settle; logs in ${logDir}`)
}

/** A read_committed reader of the output that stamps the arrival of every record. */
async function outputReader(topic: string) {
  const consumer = kafka.consumer({
    groupId: `${topic}.reader`,
    maxWaitTimeInMs: Number(process.env.CHAT_BENCH_READER_WAIT ?? 100),
    readUncommitted: false,
  })
  const state = { count: 0, lastAt: 0, latencies: [] as number[] }
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const at = now()
      for (const m of batch.messages) {
        state.count++
        const body = (JSON.parse(m.value?.toString('utf8') ?? '{}') as { body?: string }).body ?? ''
        const [phase, , sentAt] = body.split('|')
        if (phase === 'L') state.latencies.push(at - Number(sentAt))
      }
      state.lastAt = at
    },
  })
  return { state, stop: () => consumer.disconnect() }
}

function record(phase: string, i: number): { key: string; value: string } {
  const key = `conv-${i % conversations}`
  const head = `${phase}|${key}#${i}|${now()}|`
  const body = head + 'x'.repeat(Math.max(0, bodyBytes - head.length))
  return { key, value: JSON.stringify({ conversationKey: key, sender: 'bob', recipients: ['ann'], body }) }
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; logs in ${logDir}`)
    await sleep(20)
  }
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN

async function scenario(kind: Kind, count: number, rep: number) {
  const name = `bench-${kind}-${count}-r${rep}-${Date.now() % 100_000}`
  const topics = chatTopics(`${name}.`)
  const admin = kafka.admin()
  await admin.connect()
  await ensureChatTopics(admin, topics, partitions)
  await admin.disconnect()
  const nodes = await startCluster(kind, count, name)
  const reader = await outputReader(topics.output)
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()

  // Throughput: a backlog of `messages` written in one transaction, so that every consumer
  // (read_committed) sees all of it at once when it commits: the clock measures the cluster, not
  // the loader. It runs from that commit to the last output visible downstream.
  const loader = kafka.producer({
    transactionalId: `${name}.loader`,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await loader.connect()
  const transaction = await loader.transaction()
  for (let i = 0; i < messages; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, messages - i) }, (_, j) => record('T', i + j))
    await transaction.send({ topic: topics.input, messages: batch })
  }
  const cpuBefore = nodes.map((n) => cpuSeconds(n.pid!))
  const started = now()
  await transaction.commit()
  const produced = now()
  await loader.disconnect()
  await until('the backlog', () => reader.state.count >= messages, 600_000)
  const elapsedMs = reader.state.lastAt - started
  const cpu = nodes.reduce((sum, n, i) => sum + cpuSeconds(n.pid!) - cpuBefore[i]!, 0)

  // Latency: a steady `rate` msg/s (in 20 ms ticks) for latencySeconds, below capacity.
  const perTick = Math.max(1, Math.round(rate / 50))
  const ticks = latencySeconds * 50
  const t0 = now()
  for (let tick = 0; tick < ticks; tick++) {
    const batch = Array.from({ length: perTick }, (_, j) => record('L', messages + tick * perTick + j))
    await producer.send({ topic: topics.input, acks: -1, messages: batch })
    const wait = t0 + (tick + 1) * 20 - now()
    if (wait > 0) await sleep(wait)
  }
  const latencyMessages = ticks * perTick
  await until('the latency phase', () => reader.state.latencies.length >= latencyMessages, 120_000)
  const sorted = [...reader.state.latencies].sort((a, b) => a - b)

  await producer.disconnect()
  await reader.stop()
  await Promise.all(
    nodes.map(
      (n) =>
        new Promise<void>((resolve) => {
          if (n.exitCode !== null) return resolve()
          const timer = setTimeout(() => n.kill('SIGKILL'), 20_000)
          n.once('exit', () => {
            clearTimeout(timer)
            resolve()
          })
          n.kill('SIGTERM')
        }),
    ),
  )
  const result = {
    kind,
    nodes: count,
    rep,
    messagesPerSecond: Math.round((messages / elapsedMs) * 1000),
    elapsedMs: Math.round(elapsedMs),
    commitMs: Math.round(produced - started),
    nodeCpuSeconds: Math.round(cpu * 100) / 100,
    latency: {
      rate: perTick * 50,
      messages: latencyMessages,
      p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
      p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
      maxMs: Math.round((sorted.at(-1) ?? Number.NaN) * 10) / 10,
    },
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
  return result
}

const startedAt = new Date().toISOString()
const loadBefore = loadavg()
const runs: Awaited<ReturnType<typeof scenario>>[] = []
try {
  for (let rep = 1; rep <= reps; rep++) {
    for (const count of [1, 3]) {
      for (const kind of ['kdp', 'baseline'] as const) {
        if (!values.only || values.only.split(',').includes(`${kind}-${count}`))
          runs.push(await scenario(kind, count, rep))
      }
    }
  }
} catch (error) {
  await cleanup()
  throw error
}

const transactions =
  values.only && !values.only.split(',').includes('transactions')
    ? []
    : [
        await transactionLoop(kafka, 'default', undefined),
        await transactionLoop(kafka, 'example', { initialRetryTime: 10, maxRetryTime: 1000, retries: 15 }),
      ]
const loadAfter = loadavg()

if (values.only) {
  await cleanup()
  process.exit(0)
}
const pick = (kind: Kind, count: number) => runs.filter((r) => r.kind === kind && r.nodes === count)
const summary = Object.fromEntries(
  [1, 3].map((count) => {
    const side = (kind: Kind) => ({
      messagesPerSecond: summarize(pick(kind, count).map((r) => r.messagesPerSecond)),
      p50Ms: summarize(pick(kind, count).map((r) => r.latency.p50Ms)),
      p99Ms: summarize(pick(kind, count).map((r) => r.latency.p99Ms)),
      cpuMsPer1000: summarize(
        pick(kind, count).map((r) => Math.round(((r.nodeCpuSeconds * 1e6) / messages) * 10) / 10),
      ),
    })
    const kdp = side('kdp')
    const baseline = side('baseline')
    return [
      `${count}-node${count > 1 ? 's' : ''}`,
      {
        kdp,
        baseline,
        ratios: {
          throughput: ratio(kdp.messagesPerSecond.median, baseline.messagesPerSecond.median),
          p50: ratio(kdp.p50Ms.median, baseline.p50Ms.median),
          p99: ratio(kdp.p99Ms.median, baseline.p99Ms.median),
        },
      },
    ]
  }),
)
const out = {
  benchmark: 'chat',
  startedAt,
  settings: {
    reps,
    messages,
    partitions,
    conversations,
    bodyBytes,
    latency: { rate, seconds: latencySeconds },
    historySize: 100,
  },
  loadAverage: { before: loadBefore, after: loadAfter },
  summary,
  backToBackTransactions: transactions,
  runs,
}
writeFileSync(new URL('../results/chat.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`)
process.stdout.write(`${JSON.stringify(summary, null, 2)}\nresults: bench/results/chat.json\n`)
await cleanup()
