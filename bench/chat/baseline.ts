// The chat benchmark's baseline: the loop a user would write with plain kafkajs 2.2.4 and no
// transactions. One member of a consumer group on the input topic; per batch: parse, number per
// conversation in memory (no changelog, no history, lost on a crash), produce, commit. Not gapless
// under failures: that is what the transactions of the example buy.
// Configuration in KDP_BENCH_CHAT_BASELINE (JSON); prints {"assigned": [...]} after every join.
import { Kafka, logLevel, Partitioners } from 'kafkajs'

const config = JSON.parse(process.env.KDP_BENCH_CHAT_BASELINE ?? 'null') as {
  brokers: string[]
  groupId: string
  input: string
  output: string
}
const kafka = new Kafka({ brokers: config.brokers, clientId: 'chat-baseline', logLevel: logLevel.NOTHING })
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
const consumer = kafka.consumer({
  groupId: config.groupId,
  sessionTimeout: 6000,
  heartbeatInterval: 1000,
  maxWaitTimeInMs: 500,
  maxBytesPerPartition: 512 * 1024,
})
const next = new Map<string, number>()
await producer.connect()
await consumer.connect()
consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
  process.stdout.write(`${JSON.stringify({ assigned: payload.memberAssignment[config.input] ?? [] })}\n`),
)
await consumer.subscribe({ topic: config.input, fromBeginning: true })
await consumer.run({
  eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
    const messages = []
    for (const m of batch.messages) {
      let value: { conversationKey?: unknown }
      try {
        value = JSON.parse(m.value?.toString('utf8') ?? 'null') as { conversationKey?: unknown }
      } catch {
        continue
      }
      if (typeof value?.conversationKey !== 'string') continue
      const seq = next.get(value.conversationKey) ?? 0
      next.set(value.conversationKey, seq + 1)
      messages.push({
        key: value.conversationKey,
        value: JSON.stringify({ ...value, conversationMsgSeq: seq }),
      })
    }
    if (messages.length > 0) await producer.send({ topic: config.output, acks: -1, messages })
    const last = batch.messages.at(-1)
    if (last) resolveOffset(last.offset)
    await heartbeat()
  },
})
process.once('SIGTERM', () => {
  void Promise.allSettled([consumer.disconnect(), producer.disconnect()]).then(() => process.exit(0))
})
