import { monotonicMs } from '../../coordination/lease.js'
import type { PartitionLoad } from '../state/status.js'

/** Upload times kept per partition between two samples; beyond it, a random one is replaced. */
const MAX_UPLOAD_SAMPLES = 256

/**
 * The positions and counters of one topic-partition an archiver owns, written by the archiver on its
 * hot path (plain fields: a record costs a few increments) and read by the status sample and
 * `/metrics`. Offsets are -1 while unknown.
 */
export class PartitionCounters {
  /** The next offset to read: last offset handled + 1. */
  position = -1
  /** The offset the group resumes from: the last successful commit, or where reading began. */
  committed = -1
  /** The high watermark of the partition's latest fetched batch. */
  highWatermark = -1
  /** Read but not stored yet: in open files and in uploads under way (bytes as written in the file, before compression). */
  bufferedRecords = 0
  bufferedBytes = 0
  /** Monotonic, for rates: records and value bytes read; records and object bytes stored. */
  recordsIn = 0
  bytesIn = 0
  recordsOut = 0
  bytesOut = 0
  /** Upload times (ms) since the last sample. */
  #uploads: number[] = []
  /** The counters at the last sample, for rates over the status interval. */
  #sampled: { at: number; recordsIn: number; bytesIn: number; recordsOut: number; bytesOut: number }

  constructor(
    readonly partition: number,
    now = monotonicMs(),
  ) {
    this.#sampled = { at: now, recordsIn: 0, bytesIn: 0, recordsOut: 0, bytesOut: 0 }
  }

  /** Records not read yet, as of the latest fetch: what scaling decides from. */
  get unreadLag(): number {
    if (this.highWatermark < 0 || this.position < 0) return 0
    return Math.max(0, this.highWatermark - this.position)
  }

  /** Records past the group's committed offset (read or not). */
  get committedLag(): number {
    if (this.highWatermark < 0 || this.committed < 0) return 0
    return Math.max(0, this.highWatermark - this.committed)
  }

  /** A batch arrived: the broker's high watermark, and where this read began if nothing says so yet. */
  fetched(highWatermark: number, firstOffset: number | undefined): void {
    if (Number.isFinite(highWatermark)) this.highWatermark = Math.max(this.highWatermark, highWatermark)
    // A read starts at the committed offset (or the log start when nothing is committed).
    if (firstOffset !== undefined) {
      if (this.committed < 0) this.committed = firstOffset
      if (this.position < 0) this.position = firstOffset
    }
  }

  uploaded(ms: number): void {
    if (this.#uploads.length < MAX_UPLOAD_SAMPLES) this.#uploads.push(ms)
    else this.#uploads[Math.floor(Math.random() * MAX_UPLOAD_SAMPLES)] = ms
  }

  /**
   * After a rebalance the group reads again from the committed offset, and what was buffered was
   * dropped (uploads of the old round are abandoned).
   */
  rewind(): void {
    this.position = this.committed
    this.bufferedRecords = 0
    this.bufferedBytes = 0
  }

  /** The load since the previous sample (rates over that span); starts the next span. */
  sample(topic: string, sink: string, now = monotonicMs()): PartitionLoad {
    const s = this.#sampled
    const seconds = Math.max(0.001, (now - s.at) / 1000)
    const rate = (current: number, previous: number) => Math.round(((current - previous) / seconds) * 10) / 10
    const uploads = this.#uploads
    const load: PartitionLoad = {
      topic,
      sink,
      partition: this.partition,
      unreadLag: this.unreadLag,
      bufferedRecords: Math.max(0, this.bufferedRecords),
      bufferedBytes: Math.max(0, this.bufferedBytes),
      committedLag: this.committedLag,
      recordsInPerSec: rate(this.recordsIn, s.recordsIn),
      bytesInPerSec: rate(this.bytesIn, s.bytesIn),
      recordsOutPerSec: rate(this.recordsOut, s.recordsOut),
      bytesOutPerSec: rate(this.bytesOut, s.bytesOut),
      uploadLatencyMs: uploads.length === 0 ? null : Math.round(median(uploads) * 10) / 10,
    }
    this.#sampled = {
      at: now,
      recordsIn: this.recordsIn,
      bytesIn: this.bytesIn,
      recordsOut: this.recordsOut,
      bytesOut: this.bytesOut,
    }
    this.#uploads = []
    return load
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

/**
 * The partitions one archiver instance (one member of a (topic, sink) group) owns now. Entries
 * follow the group's assignment: a partition lost in a rebalance disappears, and `close()` (the
 * archiver stopped) removes them all.
 */
export class ArchiverLoad {
  readonly #partitions = new Map<number, PartitionCounters>()
  #closed = false

  constructor(
    readonly topic: string,
    readonly sink: string,
    private readonly onClose: (load: ArchiverLoad) => void,
  ) {}

  /** The counters of `partition`, created when the archiver reads it first. */
  partition(partition: number): PartitionCounters {
    let counters = this.#partitions.get(partition)
    if (!counters) {
      counters = new PartitionCounters(partition)
      // Unless the archiver stopped: a late batch must not bring its entries back.
      if (!this.#closed) this.#partitions.set(partition, counters)
    }
    return counters
  }

  /** The counters of `partition` if this member owns it (never creates one). */
  existing(partition: number): PartitionCounters | undefined {
    return this.#partitions.get(partition)
  }

  /** A rebalance gave this member `partitions`: forget the others, rewind the ones kept. */
  assigned(partitions: readonly number[]): void {
    const kept = new Set(partitions)
    for (const partition of this.#partitions.keys())
      if (!kept.has(partition)) this.#partitions.delete(partition)
    for (const counters of this.#partitions.values()) counters.rewind()
    for (const partition of partitions) this.partition(partition)
  }

  /** Buffers were dropped (rebalance or stop): nothing is buffered any more. */
  dropped(): void {
    for (const counters of this.#partitions.values()) counters.rewind()
  }

  entries(): Iterable<PartitionCounters> {
    return this.#partitions.values()
  }

  close(): void {
    this.#closed = true
    this.#partitions.clear()
    this.onClose(this)
  }
}
