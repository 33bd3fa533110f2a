import { StoppedArchivers } from './stoppedArchivers.js'

/** Counters of this node's archivers, read by the status record, the CLI progress line and /metrics. */
export class ArchiveMetrics {
  recordsConsumed = 0
  recordsArchived = 0
  bytesArchived = 0
  filesWritten = 0
  badRecords = 0
  uploadFailures = 0
  /** Consumer lag (records) per archiver key, refreshed by each archiver. */
  readonly lagByArchiver = new Map<string, number>()
  /** Archivers that stopped by themselves (a permanent sink error, a conflicting object...). */
  readonly stopped = new StoppedArchivers()

  lag(): number {
    let total = 0
    for (const lag of this.lagByArchiver.values()) total += lag
    return total
  }
}
