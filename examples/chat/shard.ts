// One shard of the chat: a kdp process that owns partition p of the input topics. Its life:
//   1. fence: initTransactions with the transactional id of shard p. Every older producer of the
//      shard (a zombie on a frozen node) is fenced from now on, and its open transaction is aborted.
//   2. restore: read the changelog partition p to its end (see restore.ts).
//   3. consume partition p of `instant_message_in` and `latest_messages_request` through a consumer
//      group of its own with the shard assigner, and write each batch's output, changelog records,
//      dead letters and input offsets in one transaction.
// Any error ends the instance (the supervisor starts a fresh one, which restores from Kafka again):
// the in-memory state is only ever the state of committed transactions.
import { type Consumer, type EachBatchPayload, type Kafka, Partitioners, type Producer } from 'kafkajs'
import type { Process, ProcessContext } from '../../src/index.js'
import { type BatchScope, chunkRecords, type InputRole, type PreparedBatch, prepareBatch } from './batch.js'
import { AbortedError, aborted, deferred, settleWithin, untilAborted } from './bounded.js'
import { type Checkpoint, type ConversationStore, checkpointRecord } from './conversations.js'
import type { ChatLimits } from './messages.js'
import { restoreShard } from './restore.js'
import { type ShardClaim, shardAssigner } from './shardAssigner.js'
import type { ShardBoard, ShardStatusRecord } from './status.js'
import type { ChatTopics } from './topics.js'

/** Everything a shard needs; one object for all shards of a node. */
export interface ShardSettings {
  readonly kafka: Kafka
  /** Prefix of the shards' consumer groups and transactional ids (`<app>.shard-<p>`). */
  readonly app: string
  readonly topics: ChatTopics
  readonly shards: number
  /** K: messages kept per conversation (the longest answer to a latest-messages request). */
  readonly historySize: number
  readonly limits: ChatLimits
  /** The whole stop path (in-flight commit, disconnects) fits in this; keep it below kdp's maxStopMs. */
  readonly stopBudgetMs: number
  /** How long the broker lets a transaction stay open before aborting it. */
  readonly transactionTimeoutMs: number
  /** Of the shard's own consumer groups; below kdp's session timeout, so a dead member is gone first. */
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly restoreStallMs: number
  readonly board: ShardBoard
}

/** Thrown when the shard may no longer write: it was aborted or lost its kdp lease. */
export class NotOwnerError extends Error {
  constructor() {
    super('no longer the owner of this shard')
    this.name = 'NotOwnerError'
  }
}

// Sends of one transaction stay well below the broker's default max.message.bytes (1 MiB).
const maxSendBytes = 512 * 1024
let instances = 0

/** The consumer group and transactional id of shard `p`. */
export function shardIds(app: string, shard: number): { groupId: string; transactionalId: string } {
  return { groupId: `${app}.shard-${shard}`, transactionalId: `${app}.shard-${shard}` }
}

/** The kdp process of shard `shard`. Wrap it with `supervise()` to restart it after a failure. */
export function chatShard(shard: number, settings: ShardSettings): Process {
  return async (ctx) => {
    const status = settings.board.open(shard, ctx.fencingToken)
    const run = new ShardRun(shard, settings, ctx, status)
    let failure: unknown
    try {
      await run.run()
    } catch (error) {
      failure = error
    } finally {
      status.phase = 'stopping'
      await run.close()
      settings.board.close(status, ctx.signal.aborted ? undefined : failure)
    }
    if (failure !== undefined && !(failure instanceof AbortedError && ctx.signal.aborted)) throw failure
  }
}

class ShardRun {
  readonly #claim: ShardClaim
  readonly #ids: { groupId: string; transactionalId: string }
  readonly #scope: BatchScope
  readonly #failed = deferred<never>()
  #producer: Producer | undefined
  #consumer: Consumer | undefined
  #store: ConversationStore | undefined
  #checkpoint: Checkpoint = { messages: 0, requests: 0 }
  #inFlight: Promise<void> | undefined
  #broken = false

  constructor(
    readonly shard: number,
    readonly settings: ShardSettings,
    readonly ctx: ProcessContext,
    readonly status: ShardStatusRecord,
  ) {
    this.#claim = { token: ctx.fencingToken, instance: ++instances }
    this.#ids = shardIds(settings.app, shard)
    this.#scope = {
      shard,
      shards: settings.shards,
      fencingToken: ctx.fencingToken,
      topics: settings.topics,
      historySize: settings.historySize,
      limits: settings.limits,
    }
  }

  #ensureOwner(): void {
    if (this.ctx.signal.aborted || !this.ctx.isOwner()) throw new NotOwnerError()
  }

  async run(): Promise<void> {
    const { kafka, topics } = this.settings
    const signal = this.ctx.signal
    const producer = kafka.producer({
      transactionalId: this.#ids.transactionalId,
      maxInFlightRequests: 1,
      transactionTimeout: this.settings.transactionTimeoutMs,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // A transaction that starts right after a commit gets CONCURRENT_TRANSACTIONS until the broker
      // has written the previous one's markers (a few ms). kafkajs's first retry waits ~300 ms by
      // default: back-to-back transactions took 257 ms (median) with it, 16 ms with these retries
      // (bench/chat/transactions.ts; KAFKA-5477 gave the Java client a short backoff for the same
      // reason). About 10 s of retries in all before the shard gives up and restarts.
      retry: { initialRetryTime: 10, maxRetryTime: 1000, retries: 15 },
    })
    this.#producer = producer
    await untilAborted(producer.connect(), signal)
    // Fencing is a side effect too: a zombie that fenced the real owner would stall it (not corrupt
    // it: the owner's next transaction fails, and its restart fences the zombie back).
    this.#ensureOwner()
    await untilAborted(
      producer.transaction().then((t) => t.abort()),
      signal,
    )

    this.status.phase = 'restoring'
    const restored = await restoreShard({
      kafka,
      changelog: topics.changelog,
      partition: this.shard,
      claim: this.#claim,
      groupPrefix: this.#ids.groupId,
      historySize: this.settings.historySize,
      sessionTimeoutMs: this.settings.sessionTimeoutMs,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      stallMs: this.settings.restoreStallMs,
      cleanupMs: this.settings.stopBudgetMs / 2,
      signal,
    })
    this.#store = restored.store
    this.#checkpoint = restored.checkpoint
    Object.assign(this.status, {
      phase: 'joining',
      restoredRecords: restored.records,
      conversations: restored.store.size,
      checkpoint: { ...restored.checkpoint },
    })
    this.ctx.logger.info('shard restored', {
      shard: this.shard,
      records: restored.records,
      conversations: restored.store.size,
      checkpoint: restored.checkpoint,
    })

    const consumer = kafka.consumer({
      groupId: this.#ids.groupId,
      partitionAssigners: [shardAssigner(this.shard, this.#claim)],
      sessionTimeout: this.settings.sessionTimeoutMs,
      rebalanceTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: this.settings.heartbeatIntervalMs,
      // The broker answers a fetch as soon as committed data arrives; this is only the idle wait.
      maxWaitTimeInMs: Math.min(500, this.settings.heartbeatIntervalMs),
      maxBytesPerPartition: maxSendBytes,
      allowAutoTopicCreation: false,
      readUncommitted: false,
    })
    this.#consumer = consumer
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const mine = payload.memberAssignment[topics.input]?.includes(this.shard) ?? false
      if (this.status.phase !== 'stopping') this.status.phase = mine ? 'running' : 'joining'
    })
    consumer.on(consumer.events.CRASH, ({ payload }) => this.#fail(payload.error))
    await untilAborted(consumer.connect(), signal)
    await untilAborted(
      consumer.subscribe({ topics: [topics.input, topics.requests], fromBeginning: true }),
      signal,
    )
    await untilAborted(
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.#onBatch(payload),
      }),
      signal,
    )
    await Promise.race([aborted(signal), this.#failed.promise])
  }

  #fail(error: unknown): void {
    this.#broken = true
    this.#failed.reject(error)
  }

  async #onBatch(payload: EachBatchPayload): Promise<void> {
    if (this.#broken || this.ctx.signal.aborted) return
    const work = this.#handle(payload)
    this.#inFlight = work
    try {
      await work
    } catch (error) {
      // Not thrown to kafkajs (it would retry the batch on its own): the whole instance ends instead.
      this.#fail(error)
    } finally {
      this.#inFlight = undefined
    }
  }

  async #handle({ batch, resolveOffset }: EachBatchPayload): Promise<void> {
    const store = this.#store
    if (!store) throw new Error('batch before restore')
    if (batch.partition !== this.shard) {
      throw new Error(`assigned foreign partition ${batch.topic}:${batch.partition}`)
    }
    const role: InputRole = batch.topic === this.settings.topics.input ? 'messages' : 'requests'
    const next = Number(batch.lastOffset()) + 1
    // kafkajs fetches its start offset without `require_stable`, so after a rebalance it can start
    // before the offsets of our last commit: records below the checkpoint were already handled.
    const from = this.#checkpoint[role]
    const fresh = batch.messages.filter((m) => Number(m.offset) >= from)
    if (fresh.length < batch.messages.length) {
      this.status.redelivered += batch.messages.length - fresh.length
      this.ctx.logger.info('skipped records below the checkpoint', {
        topic: batch.topic,
        from,
        fetchedFrom: batch.messages[0]?.offset,
        skipped: batch.messages.length - fresh.length,
      })
    }
    if (next <= from) {
      resolveOffset(batch.lastOffset())
      return
    }
    const draft = store.draft()
    const prepared = prepareBatch(this.#scope, role, fresh, draft)
    const checkpoint = { ...this.#checkpoint, [role]: next }
    await this.#commit(batch.topic, next, prepared, checkpoint)
    draft.apply()
    this.#checkpoint = checkpoint
    Object.assign(this.status, {
      conversations: store.size,
      messages: this.status.messages + prepared.messages,
      requests: this.status.requests + prepared.requests,
      deadLetters: this.status.deadLetters + prepared.deadLetters,
      forwarded: this.status.forwarded + prepared.forwarded,
      transactions: this.status.transactions + 1,
      checkpoint: { ...checkpoint },
    })
    resolveOffset(batch.lastOffset())
  }

  /** Output, changelog, dead letters, checkpoint and input offset of one batch: all or nothing. */
  async #commit(topic: string, next: number, prepared: PreparedBatch, checkpoint: Checkpoint): Promise<void> {
    const producer = this.#producer
    if (!producer) throw new Error('no producer')
    this.#ensureOwner()
    const cp = checkpointRecord(checkpoint)
    const records = [
      ...prepared.records,
      { topic: this.settings.topics.changelog, partition: this.shard, key: cp.key, value: cp.value },
    ]
    const transaction = await producer.transaction()
    try {
      for (const topicMessages of chunkRecords(records, maxSendBytes)) {
        await transaction.sendBatch({ topicMessages, acks: -1 })
      }
      await transaction.sendOffsets({
        consumerGroupId: this.#ids.groupId,
        topics: [{ topic, partitions: [{ partition: this.shard, offset: String(next) }] }],
      })
      // The check right before the commit: after a freeze it is already false when this line runs.
      // A commit that is in flight when the node freezes is refused by the broker once the new
      // owner's initTransactions has bumped the producer epoch (the fencing token Kafka checks).
      this.#ensureOwner()
      await transaction.commit()
    } catch (error) {
      if (transaction.isActive()) await settleWithin(transaction.abort(), this.settings.stopBudgetMs / 2)
      throw error
    }
  }

  /** Bounded by `stopBudgetMs`: an in-flight batch gets half, the disconnects share the rest. */
  async close(): Promise<void> {
    const budget = this.settings.stopBudgetMs
    const started = performance.now()
    this.#broken = true
    if (this.#inFlight) await settleWithin(this.#inFlight, budget / 2)
    const left = budget - (performance.now() - started)
    await Promise.all([
      this.#consumer ? settleWithin(this.#consumer.disconnect(), left) : undefined,
      this.#producer ? settleWithin(this.#producer.disconnect(), left) : undefined,
    ])
  }
}
