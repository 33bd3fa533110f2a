import type { Kafka } from 'kafkajs'
import { groupLag } from './admin.js'
import type { TopicConsumer } from './types.js'

/** TopicConsumer on kafkajs 2.2.4: `eachBatch` with manual offset resolution and commits. */
export function kafkajsTopicConsumer(kafka: Kafka, groupId: string, topic: string): TopicConsumer {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: 1024 * 1024,
  })
  // kafkajs 2.2.4 goes on joining after a disconnect() that came during run(): the member then
  // stays in the group with no one to stop it (and, as leader, hands out empty assignments). So a
  // stop waits for a start under way to settle first, and happens once.
  let starting: Promise<void> = Promise.resolve()
  let stopping: Promise<void> | undefined
  return {
    start(handlers) {
      starting = run(handlers)
      return starting
    },
    async commit(partition, offset) {
      await consumer.commitOffsets([{ topic, partition, offset: String(offset) }])
    },
    async lag() {
      let total = 0
      for (const lag of (await groupLag(kafka, groupId, topic)).values()) total += lag
      return total
    },
    stop() {
      stopping ??= starting.catch(() => {}).then(() => consumer.disconnect())
      return stopping
    },
  }

  async function run(handlers: Parameters<TopicConsumer['start']>[0]): Promise<void> {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
      handlers.onAssignment(payload.memberAssignment[topic] ?? []),
    )
    await consumer.connect()
    // A new archive starts from the beginning of the topic: nothing already in it is skipped.
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const records = batch.messages.map((m) => ({
          offset: Number(m.offset),
          key: m.key,
          value: m.value,
          headers: m.headers ?? {},
          timestamp: Number(m.timestamp),
        }))
        await handlers.onBatch(
          batch.partition,
          records,
          { heartbeat, stillOwned: () => isRunning() && !isStale() },
          { highWatermark: Number(batch.highWatermark) },
        )
        // Buffered is "consumed" for the fetch position; the commit comes only after the upload.
        const last = batch.messages.at(-1)
        if (last && isRunning() && !isStale()) resolveOffset(last.offset)
      },
    })
  }
}
