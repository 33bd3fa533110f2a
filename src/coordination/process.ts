import type { Logger } from '../util/logging.js'

/**
 * What a running process is handed. A process must settle once `signal` is aborted, within the
 * node's `maxStopMs`; one that does not ends its node (safety first).
 */
export interface ProcessContext {
  /** Aborted when this instance must stop (slice revoked, lease lost, node stopping). */
  readonly signal: AbortSignal
  /**
   * How long this process may take to settle once `signal` aborts (the node's maxStopMs). Bound
   * every wait on the way out by it: a process that outlives it ends the node.
   */
  readonly maxStopMs: number
  /** The partition of the technical topic whose slice this process belongs to. */
  readonly partition: number
  /** The process's key: its index as a string for a static list, its id for a dynamic set. */
  readonly key: string
  /**
   * Grows with every new owner of this slice (the consumer-group generation in which this node
   * acquired the partition). Hand it to systems outside Kafka so they can reject a zombie's late write.
   */
  readonly fencingToken: number
  readonly logger: Logger
  /**
   * Synchronous ownership check against a monotonic clock: true only while this node's lease (send
   * time of its last successful heartbeat plus the lease length) has not run out and the slice has not
   * been revoked. Call it before every side effect: after a freeze (SIGSTOP, long GC pause) it is
   * already false before any timer of the process runs.
   */
  isOwner(): boolean
  /**
   * Waits `ms`, or less if the process is asked to stop (it resolves then, it does not reject), so
   * that a loop of `await ctx.sleep(...)` ends within its stop bound. No timer outlives it.
   */
  sleep(ms: number): Promise<void>
}

/** A process: runs until its signal is aborted, then settles. */
export type Process = (ctx: ProcessContext) => Promise<void>

/**
 * A keyed, changeable set of processes. A key maps to a partition by a stable hash, so adding or
 * removing a key starts or stops only that process.
 */
export interface ProcessSource {
  /** The current definitions, by key. */
  current(): ReadonlyMap<string, Process>
  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
}

/** A process that ended by itself with an error, or that failed to stop. */
export interface ProcessFailure {
  readonly key: string
  readonly partition: number
  readonly error: unknown
}

/** One running (or starting/stopping) process instance on this node. */
export interface RunningProcess {
  readonly key: string
  readonly partition: number
  readonly fencingToken: number
  readonly state: 'starting' | 'running' | 'stopping'
}
