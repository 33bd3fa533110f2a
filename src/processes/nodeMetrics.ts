import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { ProcessingHandle } from '../coordination/distributedProcessing.js'
import type { ArchiveMetrics } from './archiver/metrics.js'

/** What `GET /metrics` serves: the text exposition format of one node's registry. */
export interface MetricsText {
  readonly contentType: string
  text(): Promise<string>
}

export interface NodeMetricsSources {
  readonly nodeId: string
  readonly cluster: string
  /** The node's archive counters; undefined on a node built without them (its series stay at 0). */
  readonly archive: ArchiveMetrics | undefined
  /** The node's started process groups (master, archivers, scaler). */
  readonly handles: () => readonly ProcessingHandle[]
}

/** Upload times from a few ms (a local file) to a minute (S3 retrying). */
const uploadBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/**
 * One node's Prometheus registry (never the global one: several nodes may share a process). Every
 * value is read from its source at scrape time, so nothing here runs between scrapes except the
 * default metrics' own event-loop and GC observers. Labels are bounded: topic, sink and partition of
 * the partitions this node owns, process group names, and the node's own id.
 */
export function createNodeMetrics(sources: NodeMetricsSources): MetricsText & { close(): void } {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const archive = (): ArchiveMetrics | undefined => sources.archive

  new Gauge({
    name: 'kdp_node_info',
    help: 'Always 1; labels name this node and its cluster.',
    labelNames: ['node', 'cluster'],
    registers: [registry],
    collect() {
      this.set({ node: sources.nodeId, cluster: sources.cluster }, 1)
    },
  })

  const counter = (name: string, help: string, read: (m: ArchiveMetrics) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      // A counter kept elsewhere: reset to zero and brought to its value at each scrape.
      collect() {
        this.reset()
        const metrics = archive()
        if (metrics) this.inc(read(metrics))
      },
    })
  counter('kdp_archive_records_consumed_total', 'Records read and put into files.', (m) => m.recordsConsumed)
  counter('kdp_archive_bytes_consumed_total', 'Value bytes of the records read.', (m) => m.bytesConsumed)
  counter('kdp_archive_records_archived_total', 'Records in stored files.', (m) => m.recordsArchived)
  counter('kdp_archive_bytes_archived_total', 'Bytes of the stored files.', (m) => m.bytesArchived)
  counter('kdp_archive_files_written_total', 'Files stored in a sink.', (m) => m.filesWritten)
  counter('kdp_archive_bad_records_total', 'Records that could not be archived.', (m) => m.badRecords)
  counter(
    'kdp_archive_records_dead_lettered_total',
    'Bad records written to a dead-letter topic.',
    (m) => m.deadLettered,
  )
  counter(
    'kdp_archive_upload_failures_total',
    'Failed attempts to store a file or a dead letter (each retry counts).',
    (m) => m.uploadFailures,
  )

  const uploads = new Histogram({
    name: 'kdp_archive_upload_duration_seconds',
    help: 'Time to store one file in its sink, retries included.',
    buckets: uploadBuckets,
    registers: [registry],
  })
  const unsubscribe = sources.archive?.onUpload((seconds) => uploads.observe(seconds)) ?? (() => {})

  const perPartition = (name: string, help: string, read: (c: OwnedCounters) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['topic', 'sink', 'partition'],
      registers: [registry],
      collect() {
        // Only the partitions owned now: a partition that moved away must not linger here.
        this.reset()
        for (const { topic, sink, counters } of archive()?.owned() ?? [])
          this.set({ topic, sink, partition: String(counters.partition) }, read(counters))
      },
    })
  perPartition(
    'kdp_archive_unread_lag_records',
    'Records not read yet (log end − read position) of an owned partition.',
    (c) => c.unreadLag,
  )
  perPartition(
    'kdp_archive_committed_lag_records',
    'Records past the committed offset of an owned partition.',
    (c) => c.committedLag,
  )
  perPartition(
    'kdp_archive_buffered_records',
    'Records read but not stored yet (open files, uploads) of an owned partition.',
    (c) => c.bufferedRecords,
  )
  perPartition(
    'kdp_archive_buffered_bytes',
    'Bytes read but not stored yet of an owned partition.',
    (c) => c.bufferedBytes,
  )

  const perGroup = (name: string, help: string, read: (h: ProcessingHandle) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['group'],
      registers: [registry],
      collect() {
        this.reset()
        for (const handle of sources.handles()) this.inc({ group: handle.name }, read(handle))
      },
    })
  perGroup(
    'kdp_group_rebalances_total',
    'Assignments this node received (rebalance rounds, the first join included).',
    (h) => h.counters().rebalances,
  )
  perGroup(
    'kdp_group_lease_renewals_total',
    'Lease renewals: successful heartbeats and joins.',
    (h) => h.counters().leaseRenewals,
  )
  perGroup(
    'kdp_group_lease_losses_total',
    'Times the lease ended without a renewal (the node stopped its processes).',
    (h) => h.counters().leaseLosses,
  )
  new Gauge({
    name: 'kdp_processes_running',
    help: 'Processes running on this node, per group.',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset()
      for (const handle of sources.handles())
        this.set({ group: handle.name }, handle.running().filter((p) => p.state === 'running').length)
    },
  })

  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close: () => {
      unsubscribe()
      registry.clear()
    },
  }
}

type OwnedCounters = ReturnType<ArchiveMetrics['owned']>[number]['counters']
