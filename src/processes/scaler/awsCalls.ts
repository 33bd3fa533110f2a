import { monotonicMs } from '../../coordination/lease.js'
import type { Logger } from '../../util/logging.js'
import { untilAborted } from '../../util/timeout.js'
import { AwsCallError, classifyAwsError } from './autoScaling.js'
import type { ScalerConfig } from './config.js'
import type { ScalerEvent } from './events.js'

/** What an AWS call gave: its value, or why there is none (to publish as the reason of a hold). */
export type AwsResult<T> = { ok: true; value: T } | { ok: false; problem: string }

export interface AwsCallsDeps {
  /** The scaler's abort: a call under way is given up at it. */
  readonly signal: AbortSignal
  /** Whether this scaler still holds its lease: a former one makes no call. */
  readonly isOwner: () => boolean
  readonly logger: Logger
  /** Writes an event (best effort). */
  readonly emit: (event: ScalerEvent) => Promise<void>
}

/**
 * The scaler's AWS calls, with one backoff for all of them: after a failure no call is made for
 * `intervalMs`, doubling per failure up to `errorBackoffMaxMs`; a success ends it. Each failure is
 * logged and written as a `scaling-error` event.
 */
export class AwsCalls {
  #backoff: { untilMs: number; delayMs: number } | undefined

  constructor(private readonly deps: AwsCallsDeps) {}

  async run<T>(config: ScalerConfig, call: (signal: AbortSignal) => Promise<T>): Promise<AwsResult<T>> {
    const { signal, logger } = this.deps
    const now = monotonicMs()
    if (this.#backoff !== undefined && now < this.#backoff.untilMs)
      return {
        ok: false,
        problem: `AWS calls paused after an error, ${Math.ceil((this.#backoff.untilMs - now) / 1000)} s left`,
      }
    if (!this.deps.isOwner()) return { ok: false, problem: 'not the scaler any more' }
    try {
      const value = await untilAborted(call(signal), signal)
      this.#backoff = undefined
      return { ok: true, value }
    } catch (error) {
      if (signal.aborted) throw error
      const failure = error instanceof AwsCallError ? error : classifyAwsError('AWS call', error)
      const delayMs = Math.min(
        config.errorBackoffMaxMs,
        this.#backoff === undefined ? config.intervalMs : this.#backoff.delayMs * 2,
      )
      this.#backoff = { untilMs: monotonicMs() + delayMs, delayMs }
      logger.warn('AWS call failed; backing off', {
        operation: failure.operation,
        code: failure.code,
        retryInMs: delayMs,
      })
      await this.deps.emit({
        type: 'scaling-error',
        operation: failure.operation,
        code: failure.code,
        error: failure.message,
        retryInMs: delayMs,
      })
      return {
        ok: false,
        problem: `${failure.operation} failed (${failure.code}); retrying in ${Math.round(delayMs / 1000)} s`,
      }
    }
  }
}
