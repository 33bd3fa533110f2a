import { sleep } from '../util/sleep.js'
import type { Process, ProcessContext } from './process.js'

export interface SuperviseOptions {
  /** First wait before a restart. Default 200 ms. */
  readonly initialDelayMs?: number
  /** Upper bound of the wait, jitter included. Default 30 s. */
  readonly maxDelayMs?: number
  /** Growth of the wait per consecutive failure. Default 2. */
  readonly factor?: number
  /** Random spread of each wait, as a fraction (0.2 = ±20 %), so restarts do not synchronise. Default 0.2. */
  readonly jitter?: number
  /** Restarts in a row; the failure after the last one is passed on (so up to maxRestarts + 1 runs). Default 10. */
  readonly maxRestarts?: number
  /** A run that lasted this long resets the failure count and the wait. Default 60 s. */
  readonly resetAfterMs?: number
  /** Also restart when the process resolves by itself (not asked to stop). Default false. */
  readonly restartOnCompletion?: boolean
  /** Source of randomness for the jitter (tests pass a fixed one). */
  readonly random?: () => number
}

/** The wait before restart number `attempt` (1-based). Exposed for tests and docs. */
export function backoffDelay(attempt: number, options: SuperviseOptions = {}, random = Math.random): number {
  const initial = options.initialDelayMs ?? 200
  const max = options.maxDelayMs ?? 30_000
  const factor = options.factor ?? 2
  const jitter = options.jitter ?? 0.2
  const base = Math.min(max, initial * factor ** (attempt - 1))
  return Math.min(max, Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1)))))
}

/**
 * Restarts `process` after it fails, with exponential backoff and jitter, up to `maxRestarts` times
 * in a row; the next failure rejects with its error (and the failure policy of
 * `start()` applies). It checks `ctx.isOwner()` before every restart and stops waiting on abort.
 */
export function supervise(process: Process, options: SuperviseOptions = {}): Process {
  const maxRestarts = options.maxRestarts ?? 10
  const resetAfterMs = options.resetAfterMs ?? 60_000
  const random = options.random ?? Math.random
  return async (ctx: ProcessContext) => {
    let failures = 0
    while (!ctx.signal.aborted && ctx.isOwner()) {
      const startedAt = performance.now()
      try {
        await process(ctx)
        if (ctx.signal.aborted || !options.restartOnCompletion) return
      } catch (error) {
        if (ctx.signal.aborted) return
        if (performance.now() - startedAt >= resetAfterMs) failures = 0
        failures++
        if (failures > maxRestarts) throw error
        const delayMs = backoffDelay(failures, options, random)
        ctx.logger.warn('process failed; restarting', {
          error: error instanceof Error ? error.message : String(error),
          failures,
          delayMs,
        })
        await sleep(delayMs, ctx.signal)
        continue
      }
      failures = 0
      await sleep(backoffDelay(1, options, random), ctx.signal)
    }
  }
}
