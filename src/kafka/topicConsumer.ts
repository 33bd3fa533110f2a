import type { IHeaders, Kafka } from 'kafkajs'

/** A record as the archiver sees it. */
export interface ConsumedRecord {
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: IHeaders
  readonly timestamp: number
}

/** What the archiver may do while it handles a batch. */
export interface BatchControl {
  /** Keeps the group membership alive during long work (uploads, retries). */
  heartbeat(): Promise<void>
  /** False once the partition was revoked or the consumer is stopping: abandon the batch. */
  stillOwned(): boolean
}

/**
 * The archiver's only view of Kafka: one consumer-group member on one topic, with manual commits.
 * Hides kafkajs so the client can be replaced.
 */
export interface TopicConsumer {
  /** Joins the group and feeds batches, one at a time, in offset order per partition. */
  start(handlers: {
    onBatch(partition: number, records: readonly ConsumedRecord[], control: BatchControl): Promise<void>
    /** After every rebalance, with the partitions this member now has. */
    onAssignment(partitions: readonly number[]): void
  }): Promise<void>
  /** Commits `offset` (the next record to read) for `partition`. */
  commit(partition: number, offset: number): Promise<void>
  /** Records in the topic not yet committed by the group. */
  lag(): Promise<number>
  stop(): Promise<void>
}

export function kafkajsTopicConsumer(kafka: Kafka, groupId: string, topic: string): TopicConsumer {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: 1024 * 1024,
  })
  return {
    async start(handlers) {
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
          await handlers.onBatch(batch.partition, records, {
            heartbeat,
            stillOwned: () => isRunning() && !isStale(),
          })
          // Buffered is "consumed" for the fetch position; the commit comes only after the upload.
          const last = batch.messages.at(-1)
          if (last && isRunning() && !isStale()) resolveOffset(last.offset)
        },
      })
    },
    async commit(partition, offset) {
      await consumer.commitOffsets([{ topic, partition, offset: String(offset) }])
    },
    async lag() {
      const admin = kafka.admin()
      await admin.connect()
      try {
        const [ends, committed] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchOffsets({ groupId, topics: [topic] }),
        ])
        const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
        return ends.reduce(
          (sum, o) =>
            sum + Math.max(0, Number(o.high) - Math.max(done.get(o.partition) ?? -1, Number(o.low))),
          0,
        )
      } finally {
        await admin.disconnect()
      }
    },
    async stop() {
      await consumer.disconnect()
    },
  }
}
