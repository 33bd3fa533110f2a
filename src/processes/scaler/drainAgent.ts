import { monotonicMs } from '../../coordination/lease.js'
import { messageOf } from '../../util/errors.js'
import type { Logger } from '../../util/logging.js'
import type { QuiesceReport } from '../archiver/quiesce.js'
import type { EventLog } from '../state/eventLog.js'
import type { DrainStatus } from '../state/status.js'
import type { CommandsStore, DrainCommand } from './commands.js'

export interface DrainAgentOptions {
  readonly nodeId: string
  readonly commands: CommandsStore
  readonly events: EventLog
  readonly logger: Logger
  /** Quiesces this node's archivers (finish the uploads under way, read nothing more). */
  readonly quiesce?: (waitMs: number) => Promise<QuiesceReport>
  /** Lets archivers started from now on read again (a cancelled drain). */
  readonly resume?: () => void
  /** Stops this node's archiver group: the core hands every archiver over, then it leaves the group. */
  readonly stopArchivers: () => Promise<void>
  /** Joins the archiver group again (the drain was cancelled). */
  readonly startArchivers: () => Promise<void>
  /** How long the quiesce may wait for uploads (the scaler's drain timeout leaves room for the rest). */
  readonly quiesceWaitMs: () => number
  /** Publishes this node's status now, so the scaler sees the change within one interval. */
  readonly publish: () => Promise<void>
}

/**
 * The node's side of the drain protocol. It follows `drain:<its node id>` in the commands topic:
 * 1. a command: status `draining`; quiesce the archivers (they read nothing more and let the uploads
 *    already cut finish and commit, up to a bound); stop the archiver group (the core hands every
 *    archiver over cleanly; each one's stop drops its open files, which the next owner reads again
 *    from the committed offset); status `drained` with the count of records to re-read, and a
 *    `node-drained` event. The node keeps serving its API (and the master or scaler if it runs them)
 *    until its instance is terminated.
 * 2. the command tombstoned while this node still runs (cancelled): join the archiver group again.
 * Nothing is lost either way: commits only ever follow stored uploads.
 */
export class DrainAgent {
  #state: DrainStatus | null = null
  #work: Promise<void> = Promise.resolve()
  #unsubscribe: (() => void) | undefined

  constructor(private readonly options: DrainAgentOptions) {}

  /** The drain status this node publishes (null: not draining). */
  state(): DrainStatus | null {
    return this.#state
  }

  /** Follows the commands; acts at once on a drain command already there (a restarted node). */
  start(): void {
    const key = `drain:${this.options.nodeId}`
    this.#unsubscribe = this.options.commands.subscribe((change) => {
      if (change.key === key) this.#enqueue()
    })
    this.#enqueue()
  }

  /** Stops following; a drain under way finishes (the node's stop bounds it). */
  async stop(): Promise<void> {
    this.#unsubscribe?.()
    await this.#work
  }

  #enqueue(): void {
    this.#work = this.#work
      .then(() => this.#reconcile())
      .catch((error: unknown) => {
        this.options.logger.error('drain step failed', { error: messageOf(error) })
      })
  }

  async #reconcile(): Promise<void> {
    const command = this.options.commands.drainOf(this.options.nodeId)
    if (command !== undefined && this.#state?.requestId !== command.requestId) {
      if (this.#state?.state === 'drained') {
        // Asked again (a new scaler): already drained, answer the new request.
        this.#state = { ...this.#state, requestId: command.requestId }
        await this.options.publish()
        return
      }
      await this.#drain(command)
    } else if (command === undefined && this.#state !== null) {
      this.options.logger.info('drain cancelled: joining the archiver group again', {
        requestId: this.#state.requestId,
      })
      this.options.resume?.()
      await this.options.startArchivers()
      this.#state = null
      await this.options.publish()
    }
  }

  async #drain(command: DrainCommand): Promise<void> {
    const { logger } = this.options
    const began = monotonicMs()
    logger.info('draining: finishing uploads, then handing the archivers over', {
      requestId: command.requestId,
      reason: command.reason,
    })
    this.#state = {
      requestId: command.requestId,
      state: 'draining',
      since: new Date().toISOString(),
      reReadRecords: null,
    }
    await this.options.publish()
    const report = (await this.options.quiesce?.(this.options.quiesceWaitMs())) ?? {
      archivers: 0,
      reReadRecords: 0,
      uncutRecords: 0,
    }
    await this.options.stopArchivers()
    const tookMs = Math.round(monotonicMs() - began)
    this.#state = {
      requestId: command.requestId,
      state: 'drained',
      since: new Date().toISOString(),
      reReadRecords: report.reReadRecords,
    }
    await this.options.publish()
    logger.info('drained: no archiver runs here any more', {
      requestId: command.requestId,
      ...report,
      tookMs,
    })
    await this.options.events.emit({
      type: 'node-drained',
      target: this.options.nodeId,
      requestId: command.requestId,
      reReadRecords: report.reReadRecords,
      uncutRecords: report.uncutRecords,
      tookMs,
    })
  }
}
