import { monotonicMs } from '../../coordination/lease.js'
import type { BatchControl } from '../../kafka/index.js'
import type { Logger } from '../../util/logging.js'
import { sleep } from '../../util/sleep.js'
import { settledWithin } from '../../util/timeout.js'
import type { TopicConfig } from '../state/topicConfig.js'
import type { Cut } from './cutLog.js'
import type { CutUploads } from './cutUploads.js'
import type { InFlightBudget } from './inFlightBudget.js'
import type { PartitionState } from './partitionState.js'
import { Abandoned } from './retry.js'

/**
 * Files of one partition being encoded and stored at once, beyond which reading that partition waits.
 * Two keep the reader busy while a file is written; more would only hold more memory.
 */
const MAX_UPLOADS_PER_PARTITION = 2

export interface CutterDeps {
  readonly config: TopicConfig
  readonly budget: InFlightBudget
  readonly uploads: CutUploads
  /** The archiver's abort: no wait outlives it. */
  readonly signal: AbortSignal
  readonly logger: Logger
  /** The archiver's partitions, live: the largest is cut under memory pressure. */
  readonly partitions: ReadonlyMap<number, PartitionState>
  /** The archiver's current epoch (a rebalance starts a new one). */
  readonly epoch: () => number
}

/**
 * Cuts a partition's open files: where a rule fired, at the cuts recorded before a crash, and under
 * the in-flight bound; each cut is queued for its record, uploads and commit (see CutUploads). The
 * per-batch methods run under the partition's lock, given the epoch the batch began in;
 * `flushTimed` and `flushLargest` come from outside a batch and take the lock themselves.
 */
export class Cutter {
  constructor(private readonly deps: CutterDeps) {}

  /** Before the record at `offset`: completes a recorded cut it passed, or cuts where the next one starts. */
  async reachPlan(
    partition: number,
    state: PartitionState,
    epoch: number,
    control: BatchControl,
    offset: number,
  ): Promise<void> {
    for (let next = state.plan[0]; next !== undefined && offset > next.last; next = state.plan[0]) {
      // The cut's last records are gone (compacted or deleted): cut what there is, where recorded.
      if (state.rotation.isEmpty) {
        state.plan.shift()
        state.cutFrom = next.last + 1
      } else await this.flushPlanned(partition, state, epoch, control)
    }
    const next = state.plan[0]
    if (next !== undefined && offset >= next.first && (state.cutFrom ?? offset) < next.first) {
      // The open range began before a recorded cut: cut it off, so the recorded one starts clean.
      if (!state.rotation.isEmpty) await this.flush(partition, state, epoch, control, 'align')
      state.cutFrom = next.first
    }
  }

  flushPlanned(
    partition: number,
    state: PartitionState,
    epoch: number,
    control: BatchControl,
  ): Promise<void> {
    return this.flush(partition, state, epoch, control, 'replay', state.plan[0])
  }

  /**
   * Cuts every open file of the partition and queues: the cut's record in the log (unless it is a
   * recorded one), the uploads, then the commit past it. Waits only when the partition already has
   * MAX_UPLOADS_PER_PARTITION uploads under way.
   */
  async flush(
    partition: number,
    state: PartitionState,
    epoch: number,
    control: BatchControl,
    reason: string,
    planned?: Cut,
  ): Promise<void> {
    const { uploads } = state
    const records = state.rotation.records
    const bytes = state.rotation.bytes
    const layout = state.layout
    const { files, cut, toRecord } = state.cut(reason, this.deps.config.revision, planned)
    const compressed = files.map((file) => layout.compression.take(file))
    state.queuedCommit = cut.last + 1
    this.deps.uploads.queue({
      partition,
      state,
      epoch,
      layout,
      files,
      compressed,
      cut,
      toRecord,
      records,
      bytes,
    })
    while (uploads.size > MAX_UPLOADS_PER_PARTITION && control.stillOwned() && !this.deps.signal.aborted) {
      // An upload that retries against an unreachable sink may take long: stay in the group meanwhile.
      await settledWithin(uploads.oldest(), 1000)
      await control.heartbeat().catch(() => {})
    }
    uploads.throwIfFailed()
  }

  /** At the in-flight bound: flush the largest buffer (this partition's if it is), then wait for room. */
  async relieve(
    partition: number,
    state: PartitionState,
    epoch: number,
    control: BatchControl,
  ): Promise<void> {
    const largest = this.largest()
    if (largest === partition && !state.rotation.isEmpty)
      await this.flush(partition, state, epoch, control, 'memory')
    else this.deps.budget.relieve()
    // Uploads give their bytes back when they are stored; until then this partition reads no further.
    while (
      this.deps.budget.over() &&
      control.stillOwned() &&
      !this.deps.signal.aborted &&
      epoch === this.deps.epoch()
    ) {
      // Inside a recorded cut no other cut may be made: read on (the cut is as large as it was).
      if (state.inPlannedCut) return
      if (!state.rotation.isEmpty) {
        await this.flush(partition, state, epoch, control, 'memory')
        continue
      }
      await control.heartbeat().catch(() => {})
      await sleep(50, this.deps.signal)
    }
  }

  /** The partition holding the most bytes that may be cut now (not inside a recorded cut). */
  largest(): number | undefined {
    let best: number | undefined
    let bytes = 0
    for (const [partition, state] of this.deps.partitions) {
      if (state.rotation.bytes > bytes && !state.inPlannedCut) {
        best = partition
        bytes = state.rotation.bytes
      }
    }
    return best
  }

  /** Cuts the partition's open files from outside a batch (a timer or memory pressure). */
  #fromOutside(partition: number, reason: string): Promise<void> {
    const epoch = this.deps.epoch()
    const state = this.deps.partitions.get(partition)
    if (!state) return Promise.resolve()
    // After the batch under way on the partition, if any (the lock), and only in the same epoch.
    return state
      .exclusive(async () => {
        if (state.rotation.isEmpty || epoch !== this.deps.epoch() || state.inPlannedCut) return
        await this.flush(partition, state, epoch, this.deps.uploads.control(epoch), reason)
      })
      .catch((error: unknown) => {
        if (!(error instanceof Abandoned))
          this.deps.logger.warn(`${reason} cut failed`, { partition, error: String(error) })
      })
  }

  /** Under memory pressure from anywhere in the node: cuts this archiver's largest partition. */
  flushLargest(): Promise<void> {
    const partition = this.largest()
    return partition === undefined ? Promise.resolve() : this.#fromOutside(partition, 'memory')
  }

  /** The wall-clock rules: files older than maxAgeMs, partitions idle for idleMs. */
  async flushTimed(): Promise<void> {
    const now = monotonicMs()
    for (const [partition, state] of this.deps.partitions) {
      if (state.rotation.tooOld(now)) await this.#fromOutside(partition, 'maxAgeMs')
      else if (state.rotation.idle(now)) await this.#fromOutside(partition, 'idle')
    }
  }
}
