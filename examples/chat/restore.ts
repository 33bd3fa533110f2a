// Restoring a shard: read its partition of the compacted changelog, read_committed, from the
// beginning to the end offset taken after this instance's initTransactions (so no transaction of an
// older owner can still be open on it), and rebuild the conversations from it.
import { randomBytes } from 'node:crypto'
import type { Kafka } from 'kafkajs'
import { deferred, settleWithin, untilAborted } from './bounded.js'
import { type Checkpoint, type ConversationStore, decodeChangelog, Restorer } from './conversations.js'
import { type ShardClaim, shardAssigner } from './shardAssigner.js'

/** What a restore reads, as whom, and its bounds. */
export interface RestoreOptions {
  readonly kafka: Kafka
  readonly changelog: string
  readonly partition: number
  readonly claim: ShardClaim
  /** Prefix of the short-lived consumer group the restore reads with. */
  readonly groupPrefix: string
  readonly historySize: number
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  /** Fail (and let the supervisor retry) when no record arrives for this long. */
  readonly stallMs: number
  /** Bound of each cleanup step (disconnects). */
  readonly cleanupMs: number
  readonly signal: AbortSignal
}

/** What a restore produced. */
export interface Restored {
  readonly store: ConversationStore
  readonly checkpoint: Checkpoint
  readonly records: number
}

async function endOffset(kafka: Kafka, topic: string, partition: number, options: RestoreOptions) {
  const admin = kafka.admin()
  try {
    await untilAborted(admin.connect(), options.signal)
    const offsets = await untilAborted(admin.fetchTopicOffsets(topic), options.signal)
    const mine = offsets.find((o) => o.partition === partition)
    return { low: Number(mine?.low ?? 0), high: Number(mine?.high ?? 0) }
  } finally {
    await settleWithin(admin.disconnect(), options.cleanupMs)
  }
}

/**
 * Reads the shard's changelog partition to its end and returns the rebuilt state. kafkajs cannot
 * read a partition without a group, so the restore joins a consumer group of its own (unique per
 * restore, never committed: the broker deletes it once empty) with the shard assigner.
 */
export async function restoreShard(options: RestoreOptions): Promise<Restored> {
  const restorer = new Restorer(options.historySize)
  const { low, high } = await endOffset(options.kafka, options.changelog, options.partition, options)
  if (high <= low) return { ...restorer.result(), records: 0 }

  const consumer = options.kafka.consumer({
    groupId: `${options.groupPrefix}.restore.${randomBytes(6).toString('hex')}`,
    partitionAssigners: [shardAssigner(options.partition, options.claim)],
    sessionTimeout: options.sessionTimeoutMs,
    rebalanceTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    maxWaitTimeInMs: Math.min(500, options.heartbeatIntervalMs),
    allowAutoTopicCreation: false,
    readUncommitted: false,
  })
  const done = deferred<void>()
  let position = low
  let lastProgress = performance.now()
  const advance = (lastOffset: string): void => {
    position = Math.max(position, Number(lastOffset) + 1)
    lastProgress = performance.now()
    if (position >= high) done.resolve()
  }
  // Batches of control records only (commit or abort markers) never reach eachBatch; this event
  // reports them too, so a changelog that ends with a marker is read to its end.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.partition === options.partition) advance(payload.lastOffset)
  })
  consumer.on(consumer.events.CRASH, ({ payload }) => done.reject(payload.error))
  const stallCheck = setInterval(() => {
    if (performance.now() - lastProgress > options.stallMs) {
      done.reject(
        new Error(
          `changelog restore made no progress for ${options.stallMs} ms at offset ${position} of ${high}`,
        ),
      )
    }
  }, 1000)
  try {
    await untilAborted(consumer.connect(), options.signal)
    await untilAborted(consumer.subscribe({ topic: options.changelog, fromBeginning: true }), options.signal)
    await untilAborted(
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          try {
            for (const m of batch.messages) restorer.add(decodeChangelog(m.key, m.value, m.offset))
          } catch (error) {
            done.reject(error)
          }
        },
      }),
      options.signal,
    )
    await untilAborted(done.promise, options.signal)
  } finally {
    clearInterval(stallCheck)
    await settleWithin(consumer.disconnect(), options.cleanupMs)
  }
  return { ...restorer.result(), records: restorer.records }
}
