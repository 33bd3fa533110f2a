import type { Kafka } from 'kafkajs'
import { groupLag } from './admin.js'
import { BatchPipeline } from './batchPipeline.js'
import type { TopicConsumer, TopicConsumerOptions } from './types.js'

/** Batches of one fetch handed to readAhead at once, at most (a fetch has one per partition). */
const BATCHES_AHEAD = 16
/** With readAhead: the values' bytes, and the batches, that may wait behind the batch under way (about one fetch). */
const BYTES_AHEAD = 8 * 1024 * 1024

/** See TopicConsumerOptions. */
export const DEFAULT_TOPIC_SESSION_TIMEOUT_MS = 10_000

/** TopicConsumer on kafkajs 2.2.4: `eachBatch` with manual offset resolution and commits. */
export function kafkajsTopicConsumer(
  kafka: Kafka,
  groupId: string,
  topic: string,
  options: TopicConsumerOptions = {},
): TopicConsumer {
  const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_TOPIC_SESSION_TIMEOUT_MS
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: 1024 * 1024,
  })
  // kafkajs 2.2.4 goes on joining after a disconnect() that came during run(): the member then
  // stays in the group with no one to stop it (and, as leader, hands out empty assignments). So a
  // stop waits for a start under way to settle first, and happens once.
  let starting: Promise<void> = Promise.resolve()
  let stopping: Promise<void> | undefined
  let pipeline: BatchPipeline | undefined
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
      // Batches waiting in the pipeline are dropped (read again by the next owner), the one under way finishes.
      stopping ??= starting
        .catch(() => {})
        .then(() => Promise.all([consumer.disconnect(), pipeline?.close()]))
        .then(() => {})
      return stopping
    },
  }

  async function run(handlers: Parameters<TopicConsumer['start']>[0]): Promise<void> {
    const { readAhead } = handlers
    // With readAhead, kafkajs hands out a fetch's batches at once and the pipeline takes them one
    // after the other while the next fetch goes out.
    if (readAhead !== undefined) pipeline = new BatchPipeline(BYTES_AHEAD, BATCHES_AHEAD)
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      pipeline?.newGeneration()
      handlers.onAssignment(payload.memberAssignment[topic] ?? [])
    })
    await consumer.connect()
    // A new archive starts from the beginning of the topic: nothing already in it is skipped.
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: pipeline === undefined ? 1 : BATCHES_AHEAD,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        pipeline?.throwIfFailed()
        const partition = batch.partition
        const records = batch.messages.map((m) => ({
          offset: Number(m.offset),
          key: m.key,
          value: m.value,
          headers: m.headers ?? {},
          timestamp: Number(m.timestamp),
        }))
        const info = { highWatermark: Number(batch.highWatermark) }
        const work = () =>
          handlers.onBatch(
            partition,
            records,
            { heartbeat, stillOwned: () => isRunning() && !isStale() },
            info,
          )
        // Buffered is "consumed" for the fetch position; the commit comes only after the upload.
        const resolve = () => {
          const last = batch.messages.at(-1)
          if (last && isRunning() && !isStale()) resolveOffset(last.offset)
        }
        if (pipeline === undefined) {
          await work()
          return resolve()
        }
        const first = records[0]?.offset
        if (pipeline.drops(partition, first)) return
        readAhead?.(partition, records, info)
        let bytes = 0
        for (const r of records) bytes += r.value?.length ?? 0
        // Resolved before its turn: the next fetch starts after it while it waits.
        resolve()
        const rewind = () => first !== undefined && consumer.seek({ topic, partition, offset: String(first) })
        await pipeline.push(partition, first, bytes, work, rewind)
      },
    })
  }
}
