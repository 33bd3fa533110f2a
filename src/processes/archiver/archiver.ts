import type { LimitFunction } from 'p-limit'
import { monotonicMs } from '../../coordination/lease.js'
import type { ProcessContext } from '../../coordination/process.js'
import type { BatchControl, ConsumedRecord, TopicConsumer } from '../../kafka/index.js'
import type { Sink } from '../../sinks/sink.js'
import { messageOf } from '../../util/errors.js'
import { sleep } from '../../util/sleep.js'
import { settledWithin, untilAborted } from '../../util/timeout.js'
import type { TopicConfig } from '../state/topicConfig.js'
import type { DeadLetters } from './deadLetters.js'
import { encodeFile, objectKey } from './fileEncoding.js'
import { FileRotation, type OpenFile } from './fileRotation.js'
import type { InFlightBudget } from './inFlightBudget.js'
import type { ArchiveMetrics } from './metrics.js'
import type { QuiesceRegistry } from './quiesce.js'
import { RecordPreparation } from './recordPreparation.js'
import { Abandoned, ignoreAbandoned, retryUntilDone } from './retry.js'
import { OpenFileCompression, type StreamingGzip } from './streamingGzip.js'
import { UploadQueue } from './uploadQueue.js'

/**
 * Files of one partition being encoded and stored at once, beyond which reading that partition waits.
 * Two keep the reader busy while a file is written; more would only hold more memory.
 */
const MAX_UPLOADS_PER_PARTITION = 2
const OWNERSHIP_CHECK_EVERY = 64
/** The part of maxStopMs the archiver's stop may use; the rest is the slice table's margin. */
const STOP_BUDGET_SHARE = 0.8

export interface ArchiverDeps {
  readonly config: TopicConfig
  readonly sink: Sink
  readonly consumer: TopicConsumer
  readonly deadLetters: DeadLetters
  readonly budget: InFlightBudget
  /** Node-wide limit on files being encoded at once (each holds a copy of its bytes meanwhile). */
  readonly encodeSlots: LimitFunction
  readonly metrics: ArchiveMetrics
  /** Key under which this archiver's group lag is reported. */
  readonly lagKey: string
  /** Where a drain quiesces this node's archivers (see quiesce.ts). */
  readonly quiesce?: QuiesceRegistry
}

interface PartitionState {
  readonly rotation: FileRotation
  /** Offset of the last record handled (buffered, dead-lettered or skipped). */
  lastOffset: number
  /** The offset the last queued commit will commit (the queue commits in order). */
  queuedCommit: number | undefined
  /** Where this instance started reading the partition, and the last offset it committed (for drains). */
  firstOffset: number | undefined
  committed: number | undefined
  readonly uploads: UploadQueue
  lock: Promise<void>
}

/**
 * One archiver instance: a member of the (topic, sink) consumer group that cuts records into files,
 * uploads them, and only then commits. Uploads run in the background, in order per partition, while
 * reading goes on; the in-flight budget counts a file's records until it is stored. Every rebalance
 * drops what is buffered and abandons the uploads under way (the group re-reads from the committed
 * offset and cuts the same files again), so after any crash every record ends up in exactly one
 * object.
 */
export class Archiver {
  readonly #partitions = new Map<number, PartitionState>()
  readonly #config: TopicConfig
  readonly #preparation: RecordPreparation
  readonly #compression: OpenFileCompression
  #epoch = 0
  /** Aborts the uploads of the current epoch when a rebalance or stop ends it. */
  #epochAbort = new AbortController()
  #uploadSignal: AbortSignal
  /** Upload queues of earlier epochs that may still be finishing; `run` waits for them. */
  readonly #retired = new Set<UploadQueue>()
  /** The kafkajs heartbeat of the latest batch, for background uploads that wait out a retry. */
  #heartbeat: () => Promise<void> = async () => {}
  #failed = false
  /** A drain is under way: read nothing more, let the uploads under way finish (see quiesce()). */
  #quiescing = false

  constructor(
    private readonly deps: ArchiverDeps,
    private readonly ctx: ProcessContext,
  ) {
    const c = deps.config
    this.#config = c
    this.#uploadSignal = AbortSignal.any([ctx.signal, this.#epochAbort.signal])
    this.#preparation = new RecordPreparation(c)
    this.#compression = new OpenFileCompression(
      c.format,
      c.compression === 'gzip' && c.sortBy === null,
      deps.budget,
    )
  }

  /** Runs until the process is aborted (or the bad-record policy is `fail`). */
  async run(): Promise<void> {
    const { consumer, budget, metrics } = this.deps
    const unsubscribe = budget.onPressure(() => void this.#flushLargest())
    const timers: NodeJS.Timeout[] = []
    const unregister = this.deps.quiesce?.add(this)
    try {
      // Joining waits for the broker: an abort meanwhile must not wait for it.
      await untilAborted(
        consumer.start({
          onBatch: (partition, records, control) =>
            this.#withLock(partition, () => this.#onBatch(partition, records, control)),
          onAssignment: () => this.#dropAll(),
        }),
        this.ctx.signal,
      ).catch((error: unknown) => {
        if (!this.ctx.signal.aborted) throw error
      })
      timers.push(setInterval(() => void this.#reportLag(), 5000))
      if (this.#config.rotation.maxAgeMs !== null) timers.push(setInterval(() => void this.#flushOld(), 1000))
      while (!this.ctx.signal.aborted && !this.#failed) await sleep(1000, this.ctx.signal)
      if (this.#failed) {
        // Policy `fail`, or a permanent sink error: stop consuming and stay stopped (no crash loop)
        // until the config changes or the topic is restarted; nothing past the last commit is lost.
        await untilAborted(consumer.stop(), this.ctx.signal).catch(() => {})
        while (!this.ctx.signal.aborted) await sleep(60_000, this.ctx.signal)
      }
    } finally {
      for (const timer of timers) clearInterval(timer)
      unsubscribe()
      unregister?.()
      // Settle within the stop budget whatever the broker and the sink do: first abandon what is
      // buffered and the uploads under way (they stop at the abort and check ownership before any
      // write), then give the consumer's LeaveGroup and the uploads what is left of the budget.
      // Past it, kafkajs finishes on its own; the group notices a silent member after its session.
      const deadline = monotonicMs() + this.ctx.maxStopMs * STOP_BUDGET_SHARE
      const left = (): number => Math.max(0, deadline - monotonicMs())
      this.#dropAll()
      await settledWithin(consumer.stop(), left())
      await settledWithin(Promise.all([...this.#retired].map((queue) => queue.drained())), left())
      metrics.lagByArchiver.delete(this.deps.lagKey)
    }
  }

  #state(partition: number): PartitionState {
    let state = this.#partitions.get(partition)
    if (!state) {
      state = {
        rotation: new FileRotation(this.#config.rotation),
        lastOffset: -1,
        queuedCommit: undefined,
        firstOffset: undefined,
        committed: undefined,
        uploads: new UploadQueue(),
        lock: Promise.resolve(),
      }
      this.#partitions.set(partition, state)
    }
    return state
  }

  #withLock(partition: number, work: () => Promise<void>): Promise<void> {
    const state = this.#state(partition)
    const run = state.lock.then(work)
    state.lock = run.catch(() => {})
    return run
  }

  /** After a rebalance kafkajs re-reads from the committed offsets: what we buffered must go. */
  #dropAll(): void {
    this.#epoch++
    this.#epochAbort.abort(new Abandoned('rebalanced or stopping'))
    this.#epochAbort = new AbortController()
    this.#uploadSignal = AbortSignal.any([this.ctx.signal, this.#epochAbort.signal])
    for (const state of this.#partitions.values()) {
      const { rotation, uploads } = state
      this.deps.budget.release(rotation.records, rotation.bytes)
      this.#compression.discard(rotation.takeAll())
      if (uploads.size > 0) {
        this.#retired.add(uploads)
        void uploads.drained().then(() => this.#retired.delete(uploads))
      }
    }
    this.#partitions.clear()
  }

  async #onBatch(
    partition: number,
    records: readonly ConsumedRecord[],
    control: BatchControl,
  ): Promise<void> {
    // Stopped for good (policy `fail`, or a permanent sink error): read nothing more; the run loop
    // stops the consumer, and nothing past the last commit is committed.
    if (this.#failed) return
    if (this.#quiescing) return this.#holdWhileQuiescing(control)
    const epoch = this.#epoch
    const state = this.#state(partition)
    state.uploads.throwIfFailed()
    this.#heartbeat = control.heartbeat
    // Opening time of new files (for the optional age rule): once per batch is precise enough.
    const batchStart = monotonicMs()
    try {
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as ConsumedRecord
        // Checked every few records (kafkajs builds a string key per check): an extra record buffered
        // after a revocation is dropped with the rest, and nothing is stored or committed unchecked.
        if (i % OWNERSHIP_CHECK_EVERY === 0 && !control.stillOwned()) return
        if (this.ctx.signal.aborted || epoch !== this.#epoch) return
        if (this.#quiescing) break
        if (record.offset <= state.lastOffset) continue
        state.firstOffset ??= record.offset
        const prepared = this.#preparation.prepare(record)
        if (prepared.kind === 'bad') {
          await this.#handleBad(partition, record, prepared.reason, control)
          state.lastOffset = record.offset
          continue
        }
        if (state.rotation.spanWouldExceed(prepared.path, prepared.record.timeMs))
          await this.#flush(partition, state, epoch, control)
        const file = state.rotation.append(prepared.path, prepared.record, batchStart)
        this.deps.budget.add(1, prepared.record.body.length + 1)
        this.deps.metrics.recordsConsumed++
        state.lastOffset = record.offset
        if (state.rotation.mustFlush(file)) await this.#flush(partition, state, epoch, control)
        else this.#compression.advance(file)
        if (this.deps.budget.over()) await this.#relieve(partition, state, epoch, control)
      }
      // A partition with nothing buffered (say, only bad records) commits once its uploads are done.
      const next = state.lastOffset + 1
      if (state.rotation.isEmpty && state.lastOffset >= 0 && (state.queuedCommit ?? -1) < next) {
        state.queuedCommit = next
        state.uploads.push(() => this.#commit(partition, next, epoch).catch(ignoreAbandoned))
      }
    } catch (error) {
      if (error instanceof Abandoned) return
      throw error
    }
  }

  async #handleBad(
    partition: number,
    record: ConsumedRecord,
    reason: string,
    control: BatchControl,
  ): Promise<void> {
    const { metrics, deadLetters } = this.deps
    const c = this.#config
    metrics.badRecords++
    const where = { topic: c.topic, partition, offset: record.offset, reason }
    if (c.badRecordPolicy === 'skip') {
      this.ctx.logger.warn('bad record skipped', where)
      return
    }
    if (c.badRecordPolicy === 'fail') {
      this.#failed = true
      this.ctx.logger.error(
        'bad record: archiver stopped (policy "fail"); fix the data or the config to resume',
        where,
      )
      throw new Error(`bad record at ${c.topic}/${partition}@${record.offset}: ${reason}`)
    }
    const dlqTopic = c.dlqTopic ?? `${c.topic}.dlq`
    await this.#retry('dead-letter write', control, () =>
      deadLetters.write(dlqTopic, { record, topic: c.topic, partition, reason }),
    )
    this.ctx.logger.info('bad record sent to the dead-letter topic', { ...where, dlqTopic })
  }

  /**
   * Takes every open file of the partition and queues their upload and then the commit past its last
   * record. Waits only when the partition already has MAX_UPLOADS_PER_PARTITION uploads under way.
   */
  async #flush(
    partition: number,
    state: PartitionState,
    epoch: number,
    control: BatchControl,
  ): Promise<void> {
    const { rotation, uploads } = state
    const records = rotation.records
    const bytes = rotation.bytes
    const commitAt = state.lastOffset + 1
    const files = rotation.takeAll()
    const compressed = files.map((file) => this.#compression.take(file))
    state.queuedCommit = commitAt
    uploads.push(async () => {
      // What the budget counts for this flush until it is done (see #upload).
      const held = { bytes }
      try {
        await this.#upload(partition, files, compressed, epoch, held)
        this.deps.metrics.recordsArchived += records
        await this.#commit(partition, commitAt, epoch)
      } catch (error) {
        ignoreAbandoned(error)
      } finally {
        for (const stream of compressed) stream?.destroy()
        this.deps.budget.release(records, held.bytes)
      }
    })
    while (uploads.size > MAX_UPLOADS_PER_PARTITION && control.stillOwned() && !this.ctx.signal.aborted) {
      // An upload that retries against an unreachable sink may take long: stay in the group meanwhile.
      await settledWithin(uploads.oldest(), 1000)
      await control.heartbeat().catch(() => {})
    }
    uploads.throwIfFailed()
  }

  async #upload(
    partition: number,
    files: readonly OpenFile[],
    compressed: readonly (StreamingGzip | undefined)[],
    epoch: number,
    held: { bytes: number },
  ): Promise<void> {
    const { budget } = this.deps
    const c = this.#config
    const signal = this.#uploadSignal
    const control = this.#uploadControl(epoch)
    const sorted = c.sortBy !== null
    for (const [i, file] of files.entries()) {
      const key = objectKey(file, c.topic, partition, c.format, c.compression)
      if (!control.stillOwned()) throw new Abandoned(key)
      const { body, metadata } = await this.deps.encodeSlots(() =>
        encodeFile(file, c.format, c.compression, sorted, compressed[i]),
      )
      // The records are in the body now: let them go, and count the body until it is stored instead.
      file.records.length = 0
      budget.release(0, file.bytes)
      budget.add(0, body.length)
      held.bytes += body.length - file.bytes
      await this.#retry(`upload of ${key}`, control, async () => {
        // Checked right before the side effect: a node that lost its lease writes nothing more.
        if (!this.ctx.isOwner()) throw new Abandoned('not the owner any more')
        await this.deps.sink.put(key, body, metadata, signal)
      })
      budget.release(0, body.length)
      held.bytes -= body.length
      this.deps.metrics.filesWritten++
      this.deps.metrics.bytesArchived += body.length
    }
  }

  async #commit(partition: number, offset: number, epoch: number): Promise<void> {
    // After a rebalance the group re-reads from the old commit; the re-upload uses the same names.
    if (epoch !== this.#epoch || !this.ctx.isOwner()) throw new Abandoned('rebalanced or not the owner')
    try {
      await this.deps.consumer.commit(partition, offset)
      const state = this.#partitions.get(partition)
      if (state && epoch === this.#epoch) state.committed = offset
    } catch (error) {
      this.ctx.logger.warn(
        'commit failed; the records will be read and uploaded again under the same names',
        {
          partition,
          offset,
          error: error instanceof Error ? error.message : String(error),
        },
      )
    }
  }

  #retry(what: string, control: BatchControl, work: () => Promise<void>): Promise<void> {
    return retryUntilDone(what, work, {
      control,
      signal: this.ctx.signal,
      logger: this.ctx.logger,
      onFailure: () => {
        this.deps.metrics.uploadFailures++
      },
      onPermanent: (error) => {
        if (this.#failed) return
        this.#failed = true
        this.ctx.logger.error(
          `${what} failed and cannot succeed by trying again; this archiver stops until its config changes or it is restarted`,
          { topic: this.#config.topic, error: messageOf(error) },
        )
      },
    })
  }

  /** At the in-flight bound: flush the largest buffer (this partition's if it is), then wait for room. */
  async #relieve(
    partition: number,
    state: PartitionState,
    epoch: number,
    control: BatchControl,
  ): Promise<void> {
    const largest = this.#largest()
    if (largest === partition && !state.rotation.isEmpty) await this.#flush(partition, state, epoch, control)
    else this.deps.budget.relieve()
    // Uploads give their bytes back when they are stored; until then this partition reads no further.
    while (
      this.deps.budget.over() &&
      control.stillOwned() &&
      !this.ctx.signal.aborted &&
      epoch === this.#epoch
    ) {
      if (!state.rotation.isEmpty) {
        await this.#flush(partition, state, epoch, control)
        continue
      }
      await control.heartbeat().catch(() => {})
      await sleep(50, this.ctx.signal)
    }
  }

  #largest(): number | undefined {
    let best: number | undefined
    let bytes = 0
    for (const [partition, state] of this.#partitions) {
      if (state.rotation.bytes > bytes) {
        best = partition
        bytes = state.rotation.bytes
      }
    }
    return best
  }

  /**
   * Before a drain hands this archiver over: reads nothing more, waits up to `waitMs` for the uploads
   * already cut (and their commits), and resolves with the records the next owner will read again:
   * those of files not cut yet (cutting them now would be a cut a replay cannot repeat).
   */
  async quiesce(waitMs: number): Promise<{ reRead: number; uncut: number }> {
    this.#quiescing = true
    // A batch under way may still queue its last upload or commit: wait until every queue is empty.
    const deadline = monotonicMs() + waitMs
    const busy = () => [...this.#partitions.values()].filter((s) => s.uploads.size > 0)
    while (busy().length > 0 && monotonicMs() < deadline && !this.ctx.signal.aborted) {
      await settledWithin(
        Promise.all(busy().map((s) => s.uploads.drained())),
        Math.max(0, deadline - monotonicMs()),
      )
      await sleep(10)
    }
    let reRead = 0
    let uncut = 0
    for (const state of this.#partitions.values()) {
      const from = state.committed ?? state.firstOffset
      if (from !== undefined && state.lastOffset >= from) reRead += state.lastOffset + 1 - from
      uncut += state.rotation.records
    }
    return { reRead, uncut }
  }

  /** A batch that comes while quiescing waits (staying in the group) until the stop or a rebalance. */
  async #holdWhileQuiescing(control: BatchControl): Promise<void> {
    while (control.stillOwned() && !this.ctx.signal.aborted) {
      await control.heartbeat().catch(() => {})
      await sleep(200, this.ctx.signal)
    }
  }

  /** For work outside a batch: owned while no rebalance or stop has ended the epoch. */
  #uploadControl(epoch: number): BatchControl {
    return {
      heartbeat: () => this.#heartbeat(),
      stillOwned: () => epoch === this.#epoch && !this.ctx.signal.aborted,
    }
  }

  /** Queues the upload of the partition's open files from outside a batch (timer or pressure). */
  #flushFromOutside(partition: number, why: string): Promise<void> {
    const epoch = this.#epoch
    return this.#withLock(partition, async () => {
      const state = this.#partitions.get(partition)
      if (!state || state.rotation.isEmpty || epoch !== this.#epoch) return
      await this.#flush(partition, state, epoch, this.#uploadControl(epoch))
    }).catch((error: unknown) => {
      if (!(error instanceof Abandoned))
        this.ctx.logger.warn(`${why} failed`, { partition, error: String(error) })
    })
  }

  #flushLargest(): Promise<void> {
    const partition = this.#largest()
    return partition === undefined ? Promise.resolve() : this.#flushFromOutside(partition, 'early flush')
  }

  async #flushOld(): Promise<void> {
    const now = monotonicMs()
    for (const [partition, state] of this.#partitions) {
      if (state.rotation.tooOld(now)) await this.#flushFromOutside(partition, 'age flush')
    }
  }

  async #reportLag(): Promise<void> {
    try {
      this.deps.metrics.lagByArchiver.set(this.deps.lagKey, await this.deps.consumer.lag())
    } catch {
      // Lag is informational; the next round tries again.
    }
  }
}
