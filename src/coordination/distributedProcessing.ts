import { connectKafka } from '../kafka/index.js'
import type { KafkaClient } from '../kafka/types.js'
import { createLogger, type Logger } from '../util/logging.js'
import { SharedPromise } from '../util/sharedPromise.js'
import type { Process, ProcessFailure, ProcessSource, RunningProcess } from './process.js'
import { type GroupCounters, ProcessGroup } from './processGroup.js'
import { dynamicProcesses, staticProcesses } from './processSet.js'
import { type DistributedProcessingSettings, type ResolvedSettings, resolveSettings } from './settings.js'
import { ensureTechnicalTopic } from './technicalTopic.js'

/** What happens when a process fails (rejects while not asked to stop). */
export type FailurePolicy = 'ignore' | 'stop'

export interface StartOptions {
  /**
   * `ignore` (default): the failure is reported to `onFailure` listeners and the process stays ended
   * until its slice moves (wrap it with `supervise()` to restart it). `stop`: the whole handle stops
   * and `done` rejects with the failure.
   */
  readonly failurePolicy?: FailurePolicy
  /**
   * What identifies a static list across nodes (nodes with another value get nothing). Default:
   * the list's length and its processes' source text. Set it to a version you change only when
   * the list's order or meaning changes, so that a fix inside one process does not count.
   */
  readonly listVersion?: string
}

/**
 * Where a handle is in its life: `running` from the first join on, `stopping` once `stop()` was
 * called (or a failure stops it), then `stopped` (`done` resolved) or `failed` (`done` rejected).
 */
export type HandleState = 'running' | 'stopping' | 'stopped' | 'failed'

/** A running `start(name, processes)` on this node. */
export interface ProcessingHandle {
  readonly name: string
  readonly nodeId: string
  readonly state: HandleState
  /** Stops this node's slices, hands them over cleanly, leaves the group; resolves when all of it is done. */
  stop(): Promise<void>
  /** Resolves after `stop()`; rejects if the failure policy stopped the handle. */
  readonly done: Promise<void>
  /** Calls `listener` for every process failure; returns the unsubscribe function. */
  onFailure(listener: (failure: ProcessFailure) => void): () => void
  /** Process instances live on this node now. */
  running(): RunningProcess[]
  /** Partitions of the technical topic assigned to this node in its current generation. */
  assignedPartitions(): number[]
  /** Rebalances, lease renewals and lease losses of this node's membership so far (for monitoring). */
  counters(): GroupCounters
}

/**
 * Runs lists of processes over every node that runs the same `start(name, …)`, with Kafka's
 * consumer-group protocol as the only coordinator. At most one instance of each process runs in the
 * whole cluster at any time; a slice that moves is fully stopped before its new owner starts it.
 *
 * @example
 * const processing = new DistributedProcessing({ brokers: ['127.0.0.1:9092'] })
 * const handle = await processing.start('printers', Array.from({ length: 20 }, (_, i) => async (ctx) => {
 *   while (!ctx.signal.aborted) { if (ctx.isOwner()) console.log(i); await sleep(1000, ctx.signal) }
 * }))
 * process.on('SIGTERM', () => handle.stop())
 */
export class DistributedProcessing {
  readonly settings: ResolvedSettings
  readonly #logger: Logger
  readonly #kafka: KafkaClient
  readonly #started = new Set<string>()
  readonly #topicReady: SharedPromise<void>

  /** @throws ValidationError listing every bad setting. */
  constructor(settings: DistributedProcessingSettings) {
    this.settings = resolveSettings(settings)
    this.#logger = (settings.logger ?? createLogger()).child({ node: this.settings.nodeId })
    this.#kafka = connectKafka({
      brokers: this.settings.brokers,
      clientId: this.settings.clientId,
      ...this.settings.kafka,
      logger: this.#logger,
    })
    this.#topicReady = new SharedPromise(() => ensureTechnicalTopic(this.#kafka, this.settings))
  }

  /**
   * Joins the group `name` and runs this node's share of `processes`: a static list (process i
   * belongs to partition i mod N) or a keyed, changeable `ProcessSource` (a key's partition is a
   * stable hash of the key). Resolves after the first join.
   */
  async start(
    name: string,
    processes: readonly Process[] | ProcessSource,
    options: StartOptions = {},
  ): Promise<ProcessingHandle> {
    if (!/^[A-Za-z0-9._-]{1,200}$/.test(name)) {
      throw new Error(
        `invalid process list name '${name}': use 1-200 letters, digits, '.', '_' or '-' (it names a consumer group)`,
      )
    }
    if (this.#started.has(name)) throw new Error(`'${name}' is already started on this node`)
    await this.#topicReady.get()

    const s = this.settings
    const logger = this.#logger.child({ group: name })
    const keyed = Array.isArray(processes)
      ? staticProcesses(
          processes as readonly Process[],
          s.partitions,
          options.listVersion === undefined ? undefined : `version:${options.listVersion}`,
        )
      : dynamicProcesses(processes as ProcessSource, s.partitions)
    let handle: GroupHandle | undefined
    const group: ProcessGroup = new ProcessGroup({
      name,
      settings: s,
      processes: keyed,
      logger,
      onFailure: (failure) => handle?.processFailed(failure),
      onFatal: (error) => handle?.fail(error),
      membership: (report, listener) =>
        this.#kafka.membership({
          groupId: name,
          topic: s.topic,
          partitions: s.partitions,
          sessionTimeoutMs: s.sessionTimeoutMs,
          rebalanceTimeoutMs: s.rebalanceTimeoutMs,
          heartbeatIntervalMs: s.heartbeatIntervalMs,
          report,
          listener,
          logger,
        }),
    })
    handle = new GroupHandle(name, s.nodeId, group, options.failurePolicy ?? 'ignore', logger, () =>
      this.#started.delete(name),
    )
    this.#started.add(name)
    try {
      await group.start()
    } catch (error) {
      await handle.stop().catch(() => {})
      throw error
    }
    return handle
  }
}

/** The handle of one started group: its explicit state, `done`, and the failure listeners. */
class GroupHandle implements ProcessingHandle {
  #state: HandleState = 'running'
  #stopping: Promise<void> | undefined
  readonly #listeners = new Set<(failure: ProcessFailure) => void>()
  readonly done: Promise<void>
  #settle: (error?: unknown) => void = () => {}

  constructor(
    readonly name: string,
    readonly nodeId: string,
    private readonly group: ProcessGroup,
    private readonly failurePolicy: FailurePolicy,
    private readonly logger: Logger,
    private readonly onStopped: () => void,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error === undefined ? resolve() : reject(error))
    })
    // An unobserved rejection must not crash the user's process.
    this.done.catch(() => {})
  }

  get state(): HandleState {
    return this.#state
  }

  stop(): Promise<void> {
    return this.#stop(undefined)
  }

  onFailure(listener: (failure: ProcessFailure) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  running(): RunningProcess[] {
    return this.group.running()
  }

  assignedPartitions(): number[] {
    return this.group.assigned()
  }

  counters(): GroupCounters {
    return this.group.counters()
  }

  /** The membership failed for good: stop, and fail `done` with `error`. */
  fail(error: Error): void {
    void this.#stop(error)
  }

  processFailed(failure: ProcessFailure): void {
    for (const listener of this.#listeners) listener(failure)
    if (this.failurePolicy === 'stop' && this.#state === 'running') {
      this.logger.error('a process failed and the failure policy is "stop": stopping', { key: failure.key })
      void this.#stop(failure.error ?? new Error(`process ${failure.key} failed`))
    }
  }

  /** Stops the group once; `done` then resolves, or rejects with `failure` when there is one. */
  #stop(failure: unknown): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopping'
      let error = failure
      try {
        await this.group.stop()
      } catch (stopError) {
        error ??= stopError
      } finally {
        this.onStopped()
      }
      this.#state = error === undefined ? 'stopped' : 'failed'
      this.#settle(error)
      if (failure === undefined && error !== undefined) throw error
    })()
    return this.#stopping
  }
}
