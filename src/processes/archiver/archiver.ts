import type { LimitFunction } from 'p-limit'
import { monotonicMs } from '../../coordination/lease.js'
import type { ProcessContext } from '../../coordination/process.js'
import type { BatchControl, BatchInfo, ConsumedRecord, TopicConsumer } from '../../kafka/index.js'
import type { Sink } from '../../sinks/sink.js'
import { messageOf } from '../../util/errors.js'
import { sleep } from '../../util/sleep.js'
import { settledWithin, untilAborted } from '../../util/timeout.js'
import { layoutErrors, type TopicConfig } from '../state/topicConfig.js'
import { BadRecords } from './badRecords.js'
import { compressionProblem } from './compression.js'
import { type CutLog, type FileLayout, layoutOf } from './cutLog.js'
import { Cutter } from './cutter.js'
import { CutUploads } from './cutUploads.js'
import type { DeadLetters } from './deadLetters.js'
import { type Layout, Layouts } from './fileLayout.js'
import { bufferedBytes } from './fileRotation.js'
import type { InFlightBudget } from './inFlightBudget.js'
import type { JsonChecks, JsonVerdicts } from './jsonChecks.js'
import type { ArchiveMetrics } from './metrics.js'
import type { ParquetWorkers } from './parquetWorkers.js'
import type { ArchiverLoad } from './partitionLoad.js'
import { PartitionState } from './partitionState.js'
import type { QuiesceRegistry } from './quiesce.js'
import { Abandoned, retryUntilDone } from './retry.js'
import type { StopReason } from './stoppedArchivers.js'
import type { UploadQueue } from './uploadQueue.js'

const OWNERSHIP_CHECK_EVERY = 64
/** Batches smaller than this are checked on the event loop: a worker round trip is not worth it. */
const JSON_CHECK_MIN_BATCH = 32
/** The part of maxStopMs the archiver's stop may use; the rest is the slice table's margin. */
const STOP_BUDGET_SHARE = 0.8

export interface ArchiverDeps {
  readonly config: TopicConfig
  readonly sink: Sink
  /** The sink's id in the config (for reports). */
  readonly sinkId: string
  readonly consumer: TopicConsumer
  readonly deadLetters: DeadLetters
  readonly cuts: CutLog
  readonly budget: InFlightBudget
  /** Node-wide limit on files being encoded at once (each holds a copy of its bytes meanwhile). */
  readonly encodeSlots: LimitFunction
  /** The node's Parquet writer threads (used by Parquet layouts only). */
  readonly parquetWorkers: ParquetWorkers
  /** The node's JSON check threads (used where only whether a value is JSON matters). */
  readonly jsonChecks: JsonChecks
  readonly metrics: ArchiveMetrics
  /** The archiver's consumer group: key of its lag, its stopped entry and its cuts. */
  readonly lagKey: string
  /** Where a drain quiesces this node's archivers (see quiesce.ts). */
  readonly quiesce?: QuiesceRegistry
}

/**
 * One archiver instance: a member of the (topic, sink) consumer group that cuts records into files,
 * records each cut in the cuts log, uploads the files (never replacing an object) and only then
 * commits. Uploads run in the background, in order per partition, while reading goes on. Every
 * rebalance drops what is buffered and abandons the uploads under way; whoever reads the partition
 * next re-reads from the committed offset and cuts at the recorded cuts again, so after any crash
 * every record ends up in exactly one object, whatever rule made the cut.
 */
export class Archiver {
  readonly #partitions = new Map<number, PartitionState>()
  /** JSON checks under way, by batch (see #checkAhead). */
  readonly #checks = new WeakMap<readonly ConsumedRecord[], Promise<JsonVerdicts | undefined>>()
  readonly #config: TopicConfig
  readonly #layouts = new Layouts()
  readonly #layout: Layout
  readonly #uploads: CutUploads
  readonly #cutter: Cutter
  readonly #badRecords: BadRecords
  /** The load signals of the partitions this member owns (status record, /metrics). */
  readonly #load: ArchiverLoad
  #epoch = 0
  /** Monotonic ms of the latest assignment: the cuts log must be read past it. */
  #assignedAt = monotonicMs()
  /** Upload queues of earlier epochs that may still be finishing; `run` waits for them. */
  readonly #retired = new Set<UploadQueue>()
  #stopped: { reason: StopReason; error: string } | undefined
  /** A drain is under way: read nothing more, let the uploads under way finish (see quiesce()). */
  #quiescing = false

  constructor(
    private readonly deps: ArchiverDeps,
    private readonly ctx: ProcessContext,
  ) {
    this.#config = deps.config
    this.#load = deps.metrics.openLoad(deps.config.topic, deps.sinkId)
    this.#layout = this.#layoutFor(layoutOf(deps.config))
    this.#badRecords = new BadRecords(deps, ctx, (what, control, work) => this.#retry(what, control, work))
    this.#uploads = new CutUploads(deps, ctx, {
      epoch: () => this.#epoch,
      load: (partition, epoch) => (epoch === this.#epoch ? this.#load.existing(partition) : undefined),
      retry: (what, control, work) => this.#retry(what, control, work),
    })
    this.#cutter = new Cutter({
      config: deps.config,
      budget: deps.budget,
      uploads: this.#uploads,
      signal: ctx.signal,
      logger: ctx.logger,
      partitions: this.#partitions,
      epoch: () => this.#epoch,
    })
  }

  /** Runs until the process is aborted (or it stops by itself: see `#stop`). */
  async run(): Promise<void> {
    const { consumer, budget, metrics } = this.deps
    const unsubscribe = budget.onPressure(() => void this.#cutter.flushLargest())
    const timers: NodeJS.Timeout[] = []
    const unregister = this.deps.quiesce?.add(this)
    try {
      // A stored config passed these checks when it was put; a newer node's may not pass an older's.
      const invalid = layoutErrors(this.#config).map((e) => `${e.path}: ${e.message}`)
      const problem = compressionProblem(this.#config.compression) ?? invalid[0]
      if (problem !== undefined) this.#stop('unsupported', new Error(problem))
      else {
        // Joining waits for the broker: an abort meanwhile must not wait for it.
        await untilAborted(
          consumer.start({
            onBatch: (partition, records, control, info) =>
              this.#withLock(partition, () => this.#onBatch(partition, records, control, info)),
            onAssignment: (partitions) => {
              this.#dropAll()
              this.#load.assigned(partitions)
            },
            readAhead: (partition, records, info) => {
              // Fetched is unread until archived: the lag counts the batches waiting their turn.
              this.#load.partition(partition).fetched(info.highWatermark, records[0]?.offset)
              this.#checkAhead(records)
            },
          }),
          this.ctx.signal,
        ).catch((error: unknown) => {
          if (!this.ctx.signal.aborted) throw error
        })
        timers.push(setInterval(() => void this.#reportLag(), 5000))
        const { maxAgeMs, idleMs } = this.#config.rotation
        if (maxAgeMs !== null || idleMs !== null)
          timers.push(setInterval(() => void this.#cutter.flushTimed(), 1000))
        while (!this.ctx.signal.aborted && this.#stopped === undefined) await sleep(1000, this.ctx.signal)
      }
      if (this.#stopped !== undefined) {
        // Stay stopped (no crash loop) until the config changes or the topic is restarted; nothing
        // past the last commit is lost.
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
      metrics.stopped.delete(this.deps.lagKey)
      this.#load.close()
    }
  }

  #layoutFor(spec: FileLayout): Layout {
    return this.#layouts.get(spec, this.#config, this.deps.budget, this.deps.parquetWorkers)
  }

  #state(partition: number): PartitionState {
    let state = this.#partitions.get(partition)
    if (!state) {
      state = new PartitionState(this.#config.rotation, this.#layout)
      this.#partitions.set(partition, state)
    }
    return state
  }

  /** Starts checking a batch's JSON on the worker threads, when that is all its layout needs. */
  #checkAhead(records: readonly ConsumedRecord[]): void {
    if (records.length < JSON_CHECK_MIN_BATCH || !this.#layout.preparation.onlyChecksJson) return
    // A check that fails (the workers closed, say) leaves the batch to JSON.parse on the event loop.
    const check = this.deps.jsonChecks.check(records.map((r) => r.value)).catch(() => undefined)
    this.#checks.set(records, check)
  }

  #withLock(partition: number, work: () => Promise<void>): Promise<void> {
    return this.#state(partition).exclusive(work)
  }

  /** After a rebalance kafkajs re-reads from the committed offsets: what we buffered must go. */
  #dropAll(): void {
    this.#epoch++
    this.#assignedAt = monotonicMs()
    this.#uploads.newEpoch()
    for (const state of this.#partitions.values()) {
      const { rotation, uploads } = state
      this.deps.budget.release(rotation.records, rotation.bytes)
      state.layout.compression.discard(rotation.takeAll())
      if (uploads.size > 0) {
        this.#retired.add(uploads)
        void uploads.drained().then(() => this.#retired.delete(uploads))
      }
    }
    this.#partitions.clear()
    this.#load.dropped()
  }

  async #onBatch(
    partition: number,
    records: readonly ConsumedRecord[],
    control: BatchControl,
    info: BatchInfo,
  ): Promise<void> {
    // Stopped for good: read nothing more; the run loop stops the consumer.
    if (this.#stopped !== undefined) return
    if (this.#quiescing) return this.#holdWhileQuiescing(control)
    const epoch = this.#epoch
    const state = this.#state(partition)
    state.uploads.throwIfFailed()
    this.#uploads.heartbeat = control.heartbeat
    const load = this.#load.partition(partition)
    load.fetched(info.highWatermark, records[0]?.offset)
    if (!state.planLoaded) {
      const problem = await this.#uploads.loadPlan(
        partition,
        state,
        records[0]?.offset ?? 0,
        this.#assignedAt,
      )
      if (problem !== undefined) this.#stop('unsupported', new Error(problem))
      if (epoch !== this.#epoch || this.#stopped !== undefined) return
    }
    const checks = this.#checks.get(records)
    this.#checks.delete(records)
    const verdicts = checks === undefined ? undefined : await checks
    if (epoch !== this.#epoch || this.#stopped !== undefined) return
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
        const offset = record.offset
        if (offset <= state.lastOffset) continue
        state.firstOffset ??= offset
        const valueBytes = record.value?.length ?? 0
        load.recordsIn++
        load.bytesIn += valueBytes
        this.deps.metrics.bytesConsumed += valueBytes
        state.cutFrom ??= offset
        // Only recorded cuts ahead need a look (an await per record costs a promise each).
        if (state.plan.length > 0) await this.#cutter.reachPlan(partition, state, epoch, control, offset)
        const planned = state.plannedAt(offset)
        if (state.rotation.isEmpty) state.layout = planned ? this.#layoutFor(planned.layout) : this.#layout
        const prepared = state.layout.preparation.prepare(
          record,
          verdicts === undefined ? undefined : { verdict: verdicts.get(i) },
        )
        if (prepared.kind === 'bad') {
          const verdict = await this.#badRecords.handle(partition, record, prepared.reason, control)
          if (verdict === 'fail') this.#stop('bad-record', new Error(prepared.reason))
          state.lastOffset = offset
          load.position = offset + 1
          if (verdict === 'fail')
            throw new Error(`bad record at ${this.#config.topic}/${partition}@${offset}`)
        } else {
          const { rotation } = state
          if (!planned && rotation.spanWouldExceed(prepared.path, prepared.record.timeMs))
            await this.#cutter.flush(partition, state, epoch, control, 'maxSpanMs')
          const { layout } = state
          const file = rotation.append(
            prepared.path,
            prepared.record,
            batchStart,
            layout.framing,
            layout.compression.chunks,
          )
          const bytes = bufferedBytes(prepared.record)
          this.deps.budget.add(1, bytes)
          this.deps.metrics.recordsConsumed++
          state.lastOffset = offset
          load.position = offset + 1
          load.bufferedRecords++
          load.bufferedBytes += bytes
          const rule = planned ? undefined : rotation.ruleFired(file)
          if (rule !== undefined) await this.#cutter.flush(partition, state, epoch, control, rule)
          else state.layout.compression.advance(file)
        }
        if (planned && offset >= planned.last)
          await this.#cutter.flushPlanned(partition, state, epoch, control)
        else if (!planned && this.deps.budget.over())
          await this.#cutter.relieve(partition, state, epoch, control)
      }
      // A partition with nothing buffered (say, only bad records) commits once its uploads are done.
      const next = state.lastOffset + 1
      if (state.rotation.isEmpty && state.lastOffset >= 0 && (state.queuedCommit ?? -1) < next) {
        state.queuedCommit = next
        if (state.plan.length === 0) state.cutFrom = next
        this.#uploads.commitOnly(partition, state, next, epoch)
      }
    } catch (error) {
      if (error instanceof Abandoned) return
      throw error
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
        const reason: StopReason =
          error instanceof Error && error.name === 'ConflictingObjectError'
            ? 'conflicting-object'
            : 'sink-error'
        this.#stop(reason, error)
        this.ctx.logger.error(
          `${what} failed and cannot succeed by trying again; this archiver stops until its config changes or it is restarted`,
          { topic: this.#config.topic, reason, error: messageOf(error) },
        )
      },
    })
  }

  /** Stops this archiver for good (until its config changes or it is restarted), visibly. */
  #stop(reason: StopReason, error: unknown): void {
    if (this.#stopped !== undefined) return
    this.#stopped = { reason, error: messageOf(error) }
    this.deps.metrics.stopped.set(this.deps.lagKey, {
      topic: this.#config.topic,
      sink: this.deps.sinkId,
      reason,
      error: messageOf(error),
      since: new Date().toISOString(),
    })
  }

  /**
   * Before a drain hands this archiver over: reads nothing more, waits up to `waitMs` for the uploads
   * already cut (and their commits), and resolves with the records the next owner will read again:
   * those of files not cut yet (the next owner reads them again and cuts them by its own rules).
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
      const from = state.committedOffset ?? state.firstOffset
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

  async #reportLag(): Promise<void> {
    try {
      this.deps.metrics.lagByArchiver.set(this.deps.lagKey, await this.deps.consumer.lag())
    } catch {
      // Lag is informational; the next round tries again.
    }
  }
}
