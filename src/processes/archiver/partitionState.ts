import type { Cut } from './cutLog.js'
import type { Layout } from './fileLayout.js'
import { FileRotation, type OpenFile, type RotationRules } from './fileRotation.js'
import { UploadQueue } from './uploadQueue.js'

/** What an archiver knows about one partition it reads, within one epoch (until a rebalance). */
export class PartitionState {
  readonly rotation: FileRotation
  readonly uploads = new UploadQueue()
  /** Offset of the last record handled (buffered, dead-lettered or skipped). */
  lastOffset = -1
  /** The offset the last queued commit will commit (the queue commits in order). */
  queuedCommit: number | undefined
  /** First offset of the range the open files cover (the offset after the last cut). */
  cutFrom: number | undefined
  /** Recorded cuts not reached yet (read from the cuts log at the first batch): they are cut again. */
  plan: Cut[] = []
  /** Cuts made (or replayed) and not known to be committed, oldest first: what the log must hold. */
  pending: Cut[] = []
  /** Where this instance started reading the partition, and the last offset it committed (for drains). */
  firstOffset: number | undefined
  committedOffset: number | undefined
  /** False until the plan has been read. */
  planLoaded = false
  /** The layout of the open range (a replayed cut may bring an older one). */
  layout: Layout
  lock: Promise<void> = Promise.resolve()

  constructor(rules: RotationRules, layout: Layout) {
    this.rotation = new FileRotation(rules)
    this.layout = layout
  }

  /** Runs `work` after every earlier one of this partition (batches, timed and pressure cuts). */
  exclusive(work: () => Promise<void>): Promise<void> {
    const run = this.lock.then(work)
    this.lock = run.catch(() => {})
    return run
  }

  /** The recorded cut the record at `offset` belongs to, if any. */
  plannedAt(offset: number): Cut | undefined {
    const next = this.plan[0]
    return next !== undefined && offset >= next.first ? next : undefined
  }

  /** True while the open range is part of a recorded cut: no rule may cut it anywhere else. */
  get inPlannedCut(): boolean {
    const next = this.plan[0]
    return (
      next !== undefined && this.cutFrom !== undefined && this.cutFrom >= next.first && !this.rotation.isEmpty
    )
  }

  /**
   * Takes the open files out as one cut: the planned one if given (it is in the log already), else
   * a new one. Returns the files, the cut, and the cuts the log must hold before the first upload
   * (undefined for a planned cut).
   */
  cut(
    reason: string,
    revision: number,
    planned: Cut | undefined,
  ): { files: OpenFile[]; cut: Cut; toRecord: readonly Cut[] | undefined } {
    const first = this.cutFrom ?? this.lastOffset
    const cut: Cut = planned ?? { first, last: this.lastOffset, reason, revision, layout: this.layout.spec }
    if (planned) this.plan.shift()
    this.pending.push(cut)
    this.cutFrom = cut.last + 1
    const files = this.rotation.takeAll()
    return { files, cut, toRecord: planned ? undefined : [...this.pending, ...this.plan] }
  }

  /** After a commit at `offset`: the cuts below it are done and leave the log's next record. */
  committed(offset: number): void {
    this.committedOffset = offset
    this.pending = this.pending.filter((c) => c.last >= offset)
  }
}
