// What the archiver benchmark controllers and their worker processes say to each other. A worker is
// started with one WorkerConfig (JSON, argv[2]) and writes one WorkerEvent per line on stdout.

export interface RotationSettings {
  readonly maxBytes: number
  readonly maxRecords: number
  readonly maxAgeMs: number | null
  /** Idle rule (default: the config's, 60 s). */
  readonly idleMs?: number | null
}

export interface WorkerConfig {
  /** `baseline`: a plain kafkajs consumer that counts; `kdp`: one archiver instance. */
  readonly mode: 'baseline' | 'kdp'
  readonly brokers: readonly string[]
  readonly topic: string
  /** Consumer group (baseline) or cluster name (kdp: the group is `archiveGroupId(name, topic, 'main')`). */
  readonly name: string
  /** Records in the topic: the worker reports `done` when it has counted (or archived) them all. */
  readonly expected: number
  /** kdp: the file sink's directory. */
  readonly sinkDir?: string
  readonly rotation?: RotationSettings
  /** kdp: the config's format (default jsonl: each value checked to be JSON). */
  readonly format?: 'jsonl' | 'lines'
  /** kdp: the config's compression (default gzip). */
  readonly compression?: 'gzip' | 'zstd' | 'none'
  /** kdp: archiver instances in this one node process (one consumer group; default 1). */
  readonly instances?: number
  readonly maxBytesInFlight?: number
  readonly maxMessagesInFlight?: number
  /** kdp: report `done` when every record is consumed (buffered), without waiting for the uploads. */
  readonly stopWhenConsumed?: boolean
  /**
   * What-if experiment only (never in the measured kdp runs): patch kafkajs so that every record's
   * key, value and header bytes are copied into their own memory instead of being slices of the fetch
   * response, as an archiver that copies what it buffers would hold them.
   */
  readonly copyRecordBytes?: boolean
  /** Write a V8 CPU profile of the main thread from `go` to done into this file. */
  readonly profileFile?: string
  /**
   * 1 s after the last record is consumed, force a full GC (the worker must run with --expose-gc)
   * and report a memory sample with `afterGc`: what is still alive, not garbage not yet collected.
   */
  readonly gcWhenConsumed?: boolean
  /** Sample process.memoryUsage() this often (ms) and report it; 0: never. */
  readonly memoryEveryMs: number
  /**
   * Samples carry the time and the counters only, without process.memoryUsage() (about 0.3 ms a
   * call on the measured main thread): for runs that take RSS from /proc and need only progress.
   */
  readonly countersOnly?: boolean
}

export interface MemorySample {
  readonly type: 'memory'
  /** ms since `go`. */
  readonly t: number
  /** process.memoryUsage(), unless `countersOnly`. */
  readonly rss?: number
  readonly heapUsed?: number
  readonly heapTotal?: number
  readonly external?: number
  readonly arrayBuffers?: number
  /** kdp only: records consumed and archived so far. */
  readonly consumed?: number
  readonly archived?: number
  /** Taken right after a forced full GC (see `gcWhenConsumed`). */
  readonly afterGc?: true
}

export interface DoneEvent {
  readonly type: 'done'
  /** ms from `go` to the first record seen. */
  readonly firstMs: number
  /** ms from `go` to the last record consumed (kdp: buffered, not yet uploaded). */
  readonly consumedMs: number
  /** ms from `go` to all records counted (baseline) or archived (kdp). */
  readonly doneMs: number
  /** CPU seconds of the whole process (every thread: main, libuv pool for gzip and fs) from `go` to done. */
  readonly cpuSeconds: number
  readonly records: number
  readonly filesWritten?: number
  readonly bytesArchived?: number
  readonly badRecords?: number
  readonly uploadFailures?: number
}

export type WorkerEvent =
  | { readonly type: 'ready' }
  | DoneEvent
  | MemorySample
  | { readonly type: 'error'; readonly message: string }
