import { monotonicMs } from '../../coordination/lease.js'
import type { ProcessContext } from '../../coordination/process.js'
import type { BatchControl } from '../../kafka/index.js'
import type { ArchiverDeps } from './archiver.js'
import { compressionProblem } from './compression.js'
import type { Cut } from './cutLog.js'
import type { Layout } from './fileLayout.js'
import type { OpenFile } from './fileRotation.js'
import { storeFile } from './objectStore.js'
import type { PartitionCounters } from './partitionLoad.js'
import type { PartitionState } from './partitionState.js'
import { Abandoned, ignoreAbandoned } from './retry.js'
import type { StreamingCompression } from './streamingCompression.js'

/** One cut on its way to the sink. */
export interface QueuedCut {
  readonly partition: number
  readonly state: PartitionState
  readonly epoch: number
  readonly layout: Layout
  readonly files: readonly OpenFile[]
  readonly compressed: readonly (StreamingCompression | undefined)[]
  readonly cut: Cut
  /** The cuts to write to the log before the first upload (undefined: it is there already). */
  readonly toRecord: readonly Cut[] | undefined
  readonly records: number
  readonly bytes: number
}

/**
 * The background half of an archiver: for each cut, in order per partition, its record in the cuts
 * log, then its files (created, never replacing an object), then the commit past it. Each step
 * checks ownership right before its side effect; a rebalance (a new epoch) abandons them all.
 */
export class CutUploads {
  /** Aborts the uploads of the current epoch when a rebalance or stop ends it. */
  #epochAbort = new AbortController()
  #signal: AbortSignal
  /** Cut records being written: the next epoch reads the log only once they are there. */
  readonly #recording = new Set<Promise<void>>()
  /** The kafkajs heartbeat of the latest batch, for background work that waits out a retry. */
  heartbeat: () => Promise<void> = async () => {}

  constructor(
    private readonly deps: ArchiverDeps,
    private readonly ctx: ProcessContext,
    private readonly archiver: {
      epoch(): number
      /** The partition's load entry while `epoch` is current (a stale upload must not count). */
      load(partition: number, epoch: number): PartitionCounters | undefined
      retry(what: string, control: BatchControl, work: () => Promise<void>): Promise<void>
    },
  ) {
    this.#signal = AbortSignal.any([ctx.signal, this.#epochAbort.signal])
  }

  newEpoch(): void {
    this.#epochAbort.abort(new Abandoned('rebalanced or stopping'))
    this.#epochAbort = new AbortController()
    this.#signal = AbortSignal.any([this.ctx.signal, this.#epochAbort.signal])
  }

  /** For work outside a batch: owned while no rebalance or stop has ended the epoch. */
  control(epoch: number): BatchControl {
    return {
      heartbeat: () => this.heartbeat(),
      stillOwned: () => epoch === this.archiver.epoch() && !this.ctx.signal.aborted,
    }
  }

  /** Resolves once no cut record of an earlier epoch is still being written. */
  async recordsWritten(): Promise<void> {
    await Promise.allSettled([...this.#recording])
  }

  /**
   * Reads the partition's recorded cuts (those not committed before `from`): from here on it is cut
   * exactly there again. Resolves with a reason this node cannot write one of them, if any.
   */
  async loadPlan(
    partition: number,
    state: PartitionState,
    from: number,
    since: number,
  ): Promise<string | undefined> {
    // A cut of the previous epoch may still be on its way to the log: it must be there first.
    await this.recordsWritten()
    await this.archiver.retry('reading the cuts log', this.control(this.archiver.epoch()), async () => {
      const cuts = await this.deps.cuts.cuts(this.deps.lagKey, partition, since)
      state.plan = cuts.filter((c) => c.last >= from)
    })
    state.planLoaded = true
    if (state.plan.length > 0)
      this.ctx.logger.info('replaying recorded cuts', {
        topic: this.deps.config.topic,
        partition,
        cuts: state.plan.map((c) => `${c.first}..${c.last} (${c.reason})`),
      })
    for (const cut of state.plan) {
      const problem = compressionProblem(cut.layout.compression)
      if (problem !== undefined) return `a recorded cut needs it: ${problem}`
    }
    return undefined
  }

  queue(q: QueuedCut): void {
    q.state.uploads.push(async () => {
      // What the budget counts for this cut until it is done (see #upload).
      const held = { bytes: q.bytes }
      try {
        if (q.toRecord !== undefined) await this.#record(q.partition, q.toRecord, q.epoch)
        await this.#upload(q, held)
        this.deps.metrics.recordsArchived += q.records
        const load = this.archiver.load(q.partition, q.epoch)
        if (load) load.recordsOut += q.records
        await this.#commit(q.partition, q.state, q.cut.last + 1, q.epoch)
      } catch (error) {
        ignoreAbandoned(error)
      } finally {
        for (const stream of q.compressed) stream?.destroy()
        this.deps.budget.release(q.records, held.bytes)
        // A rebalance or stop already counted this epoch's buffers as dropped.
        const load = this.archiver.load(q.partition, q.epoch)
        if (load) {
          load.bufferedRecords -= q.records
          load.bufferedBytes -= q.bytes
        }
      }
    })
  }

  /** A commit with no files before it (the records since the last one were all bad). */
  commitOnly(partition: number, state: PartitionState, offset: number, epoch: number): void {
    state.uploads.push(() => this.#commit(partition, state, offset, epoch).catch(ignoreAbandoned))
  }

  async #record(partition: number, cuts: readonly Cut[], epoch: number): Promise<void> {
    const control = this.control(epoch)
    const write = this.archiver.retry('recording a cut', control, async () => {
      if (!this.ctx.isOwner() || !control.stillOwned()) throw new Abandoned('not the owner any more')
      await this.deps.cuts.record(this.deps.lagKey, this.deps.config.topic, partition, cuts)
    })
    this.#recording.add(write)
    try {
      await write
    } finally {
      this.#recording.delete(write)
    }
  }

  async #upload(q: QueuedCut, held: { bytes: number }): Promise<void> {
    const { budget, sink, config } = this.deps
    const signal = this.#signal
    const control = this.control(q.epoch)
    for (const [i, file] of q.files.entries()) {
      const key = q.layout.key(file, config.topic, q.partition)
      if (!control.stillOwned()) throw new Abandoned(key)
      const { body, metadata } = await this.deps.encodeSlots(() =>
        q.layout.encode(file, config.topic, q.partition, q.compressed[i]),
      )
      // The records are in the body now: let them go, and count the body until it is stored instead.
      file.records.length = 0
      budget.release(0, file.bytes)
      budget.add(0, body.length)
      held.bytes += body.length - file.bytes
      const began = monotonicMs()
      await this.archiver.retry(`upload of ${key}`, control, async () => {
        // Checked right before the side effect: a node that lost its lease writes nothing more.
        if (!this.ctx.isOwner()) throw new Abandoned('not the owner any more')
        const stored = await storeFile(sink, key, body, metadata, q.layout.storedCompression, signal)
        if (stored === 'already-stored')
          this.ctx.logger.info('file already stored by an earlier attempt; kept', { key })
      })
      const tookMs = monotonicMs() - began
      budget.release(0, body.length)
      held.bytes -= body.length
      this.deps.metrics.filesWritten++
      this.deps.metrics.bytesArchived += body.length
      this.deps.metrics.uploadTook(tookMs / 1000)
      const load = this.archiver.load(q.partition, q.epoch)
      if (load) {
        load.uploaded(tookMs)
        load.bytesOut += body.length
      }
    }
  }

  async #commit(partition: number, state: PartitionState, offset: number, epoch: number): Promise<void> {
    // After a rebalance the group re-reads from the old commit and cuts at the recorded cuts again.
    if (epoch !== this.archiver.epoch() || !this.ctx.isOwner())
      throw new Abandoned('rebalanced or not the owner')
    try {
      await this.deps.consumer.commit(partition, offset)
      state.committed(offset)
      // The group's committed offset now, whatever happened meanwhile.
      const load = this.archiver.load(partition, epoch)
      if (load) load.committed = offset
    } catch (error) {
      this.ctx.logger.warn('commit failed; the records will be read and cut again at the recorded cuts', {
        partition,
        offset,
        error: error instanceof Error ? error.message : String(error),
      })
    }
  }
}
