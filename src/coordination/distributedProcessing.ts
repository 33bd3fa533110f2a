import { Kafka, type logLevel as KafkaLogLevel, logLevel } from 'kafkajs'
import { applyKafkajsIdleFix } from '../kafka/idleFix.js'
import { KafkajsMembership } from '../kafka/membership.js'
import { createLogger, type Logger } from '../util/logging.js'
import type { Process, ProcessFailure, ProcessSource, RunningProcess } from './process.js'
import { ProcessGroup } from './processGroup.js'
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
}

/** A running `start(name, processes)` on this node. */
export interface ProcessingHandle {
  readonly name: string
  readonly nodeId: string
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
}

function kafkaLogCreator(logger: Logger, onCrash: (groupId: string) => void) {
  return (_level: KafkaLogLevel) =>
    ({
      level,
      log,
    }: {
      level: KafkaLogLevel
      log: { message: string; groupId?: string } & Record<string, unknown>
    }) => {
      const { message, timestamp: _t, logger: _l, stack: _s, ...fields } = log
      // Our assignment notes travel as an unsubscribed "topic" (see memberProtocol.ts): not a problem.
      if (message.startsWith('Consumer group received unsubscribed topics')) return
      // kafkajs logs a crash before it sends LeaveGroup; stopping the slices now wins time.
      if (message.startsWith('Crash:') && typeof log.groupId === 'string') onCrash(log.groupId)
      // Error responses (e.g. "rebalancing" to a heartbeat) are handled by the client itself.
      // Rebalances are routine in kdp; kafkajs warns about each one.
      if (message.startsWith('Response ') || message.includes('re-joining')) logger.debug(message, fields)
      else if (level <= logLevel.ERROR) logger.error(message, fields)
      else if (level === logLevel.WARN) logger.warn(message, fields)
      else logger.debug(message, fields)
    }
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
  readonly #kafka: Kafka
  readonly #crashListeners = new Map<string, () => void>()
  #topicReady: Promise<void> | undefined

  /** @throws ValidationError listing every bad setting. */
  constructor(settings: DistributedProcessingSettings) {
    applyKafkajsIdleFix()
    this.settings = resolveSettings(settings)
    this.#logger = (settings.logger ?? createLogger()).child({ node: this.settings.nodeId })
    this.#kafka = new Kafka({
      brokers: [...this.settings.brokers],
      clientId: this.settings.clientId,
      ...this.settings.kafka,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(this.#logger.child({ component: 'kafkajs' }), (groupId) =>
        this.#crashListeners.get(groupId)?.(),
      ),
    })
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
    if (this.#crashListeners.has(name)) throw new Error(`'${name}' is already started on this node`)
    this.#topicReady ??= ensureTechnicalTopic(this.#kafka, this.settings, this.#logger)
    await this.#topicReady.catch((error: unknown) => {
      this.#topicReady = undefined
      throw error
    })

    const s = this.settings
    const logger = this.#logger.child({ group: name })
    const keyed = Array.isArray(processes)
      ? staticProcesses(processes as readonly Process[], s.partitions)
      : dynamicProcesses(processes as ProcessSource, s.partitions)
    const failureListeners = new Set<(failure: ProcessFailure) => void>()
    let rejectDone: (error: unknown) => void = () => {}
    let resolveDone: () => void = () => {}
    const done = new Promise<void>((resolve, reject) => {
      resolveDone = resolve
      rejectDone = reject
    })
    let stopping: Promise<void> | undefined
    const stop = (): Promise<void> => {
      stopping ??= group.stop().finally(() => this.#crashListeners.delete(name))
      return stopping
    }
    const group: ProcessGroup = new ProcessGroup({
      name,
      settings: s,
      processes: keyed,
      logger,
      onFailure: (failure) => {
        for (const listener of failureListeners) listener(failure)
        if (options.failurePolicy === 'stop') {
          logger.error('a process failed and the failure policy is "stop": stopping', { key: failure.key })
          void stop().then(() => rejectDone(failure.error), rejectDone)
        }
      },
      membership: (report, listener) =>
        new KafkajsMembership(
          this.#kafka,
          {
            groupId: name,
            topic: s.topic,
            partitions: s.partitions,
            sessionTimeoutMs: s.sessionTimeoutMs,
            rebalanceTimeoutMs: s.rebalanceTimeoutMs,
            heartbeatIntervalMs: s.heartbeatIntervalMs,
            report,
            listener,
          },
          logger,
        ),
    })
    this.#crashListeners.set(name, () => group.onLost('kafka client crash'))
    try {
      await group.start()
    } catch (error) {
      await stop().catch(() => {})
      throw error
    }
    // An unobserved rejection must not crash the user's process.
    done.catch(() => {})
    return {
      name,
      nodeId: s.nodeId,
      stop: () => stop().then(resolveDone),
      done,
      onFailure: (listener) => {
        failureListeners.add(listener)
        return () => failureListeners.delete(listener)
      },
      running: () => group.running(),
      assignedPartitions: () => group.assigned(),
    }
  }
}
