import type { PartitionLoad } from '../state/status.js'
import { ArchiverLoad, type PartitionCounters } from './partitionLoad.js'
import { StoppedArchivers } from './stoppedArchivers.js'

/** One owned topic-partition, as `/metrics` reads it (no side effect on the status sample). */
export interface OwnedPartition {
  readonly topic: string
  readonly sink: string
  readonly counters: PartitionCounters
}

/**
 * Counters of this node's archivers, read by the status record, the CLI progress line and /metrics.
 * One per node (never global): tests run several nodes in one process.
 */
export class ArchiveMetrics {
  recordsConsumed = 0
  /** Value bytes of the records read. */
  bytesConsumed = 0
  recordsArchived = 0
  bytesArchived = 0
  filesWritten = 0
  badRecords = 0
  /** Bad records written to a dead-letter topic (the `dlq` policy). */
  deadLettered = 0
  uploadFailures = 0
  /** Consumer lag (records) per archiver key, refreshed by each archiver. */
  readonly lagByArchiver = new Map<string, number>()
  readonly #loads = new Set<ArchiverLoad>()
  readonly #uploadListeners = new Set<(seconds: number) => void>()
  /** Archivers that stopped by themselves (a permanent sink error, a conflicting object...). */
  readonly stopped = new StoppedArchivers()

  lag(): number {
    let total = 0
    for (const lag of this.lagByArchiver.values()) total += lag
    return total
  }

  /** The owned partitions of one archiver instance; it closes them when it stops. */
  openLoad(topic: string, sink: string): ArchiverLoad {
    const load = new ArchiverLoad(topic, sink, (closed) => this.#loads.delete(closed))
    this.#loads.add(load)
    return load
  }

  /** Every topic-partition this node's archivers own now. */
  owned(): OwnedPartition[] {
    const out: OwnedPartition[] = []
    for (const load of this.#loads)
      for (const counters of load.entries()) out.push({ topic: load.topic, sink: load.sink, counters })
    return out
  }

  /**
   * The load of every owned topic-partition since the previous call (rates over that span), for the
   * status record; only the status store calls it. A partition owned by two instances of one group
   * on this node (for a moment, during a rebalance) is reported once, by the one that read further.
   */
  sampleLoads(): PartitionLoad[] {
    const byKey = new Map<string, PartitionLoad & { position: number }>()
    for (const { topic, sink, counters } of this.owned()) {
      const load = { ...counters.sample(topic, sink), position: counters.position }
      const key = `${topic}\u0000${sink}\u0000${counters.partition}`
      const other = byKey.get(key)
      if (!other || other.position < load.position) byKey.set(key, load)
    }
    return [...byKey.values()]
      .map(({ position: _position, ...load }) => load)
      .sort((a, b) =>
        a.topic !== b.topic
          ? a.topic < b.topic
            ? -1
            : 1
          : a.sink !== b.sink
            ? a.sink < b.sink
              ? -1
              : 1
            : a.partition - b.partition,
      )
  }

  /** A file was stored after `seconds` (retries included). */
  uploadTook(seconds: number): void {
    for (const listener of this.#uploadListeners) listener(seconds)
  }

  /** Listens to upload times (the Prometheus histogram); returns the unsubscribe function. */
  onUpload(listener: (seconds: number) => void): () => void {
    this.#uploadListeners.add(listener)
    return () => this.#uploadListeners.delete(listener)
  }
}
