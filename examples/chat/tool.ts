// `npm run example:chat:tool -- --brokers B <command>`: the walk-through's kcat, in a few lines of
// kafkajs. Commands: create-topics, send JSON..., request JSON..., read TOPIC.
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { chatTopics, ensureChatTopics } from './topics.js'

const usage = `Usage: npm run example:chat:tool -- --brokers host:port [--topic-prefix P] <command>

  create-topics [--partitions 8]   the chat's six topics (the changelog compacted)
  send JSON...                     to instant_message_in, keyed by its conversationKey
  request JSON...                  to latest_messages_request, keyed by its conversationKey
  read in|out|requests|blocks|changelog|dlq [--idle-ms 3000]
                                   prints every committed record (read_committed) from the
                                   beginning, with its headers, until nothing came for --idle-ms`

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage}\n`)
  process.exit(2)
}

const parsed = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        brokers: { type: 'string' },
        'topic-prefix': { type: 'string' },
        partitions: { type: 'string' },
        'idle-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
})()
const { values, positionals } = parsed
if (values.help) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}
const brokers = (values.brokers ?? process.env.KDP_BROKERS)?.split(',')
if (!brokers) fail('--brokers is required (or KDP_BROKERS)')
const topics = chatTopics(values['topic-prefix'])
const [command, ...rest] = positionals
const kafka = new Kafka({ brokers, clientId: 'chat-tool', logLevel: logLevel.NOTHING })

/** The conversation key of a JSON text, if it has one: the record's key, as a chat client would set it. */
function keyOf(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && 'conversationKey' in value) {
      const key = (value as { conversationKey: unknown }).conversationKey
      if (typeof key === 'string') return key
    }
  } catch {}
  return null // not JSON: sent as it is, so you can watch it become a dead letter
}

async function produce(topic: string, texts: string[]): Promise<void> {
  if (texts.length === 0) fail(`${command} needs at least one JSON argument`)
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const meta = await producer.send({
    topic,
    acks: -1,
    messages: texts.map((text) => ({ key: keyOf(text), value: text })),
  })
  await producer.disconnect()
  for (const m of meta)
    process.stdout.write(`sent to ${m.topicName} partition ${m.partition} at ${m.baseOffset}\n`)
}

async function read(which: string | undefined): Promise<void> {
  const names: Record<string, string> = {
    in: topics.input,
    out: topics.output,
    requests: topics.requests,
    blocks: topics.blocks,
    changelog: topics.changelog,
    dlq: topics.deadLetters,
  }
  const topic = which === undefined ? undefined : (names[which] ?? which)
  if (!topic) fail('read needs a topic: in, out, requests, blocks, changelog, dlq (or a name)')
  const idleMs = Number(values['idle-ms'] ?? 3000)
  // A throwaway group (never committed): the broker deletes it once it is empty.
  const consumer = kafka.consumer({
    groupId: `chat-tool-${randomBytes(4).toString('hex')}`,
    readUncommitted: false,
  })
  let last = Date.now()
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      last = Date.now()
      const headers = Object.entries(message.headers ?? {})
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')
      process.stdout.write(
        `${partition}:${message.offset} ${message.key?.toString() ?? ''} ${message.value?.toString() ?? '(null)'}${headers ? `  [${headers}]` : ''}\n`,
      )
    },
  })
  while (Date.now() - last < idleMs) await new Promise((r) => setTimeout(r, 200))
  await consumer.disconnect()
}

switch (command) {
  case 'create-topics': {
    const admin = kafka.admin()
    await admin.connect()
    const partitions = Number(values.partitions ?? 8)
    if (!Number.isInteger(partitions) || partitions < 1) fail(`--partitions must be a positive integer`)
    const shards = await ensureChatTopics(admin, topics, partitions)
    await admin.disconnect()
    process.stdout.write(`topics ready (${shards} shards): ${Object.values(topics).join(', ')}\n`)
    break
  }
  case 'send':
    await produce(topics.input, rest)
    break
  case 'request':
    await produce(topics.requests, rest)
    break
  case 'read':
    await read(rest[0])
    break
  default:
    fail(command === undefined ? 'a command is required' : `unknown command '${command}'`)
}
