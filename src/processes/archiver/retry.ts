import { monotonicMs } from '../../coordination/lease.js'
import { backoffDelay } from '../../coordination/supervision.js'
import type { BatchControl } from '../../kafka/index.js'
import { isRetriable, messageOf } from '../../util/errors.js'
import type { Logger } from '../../util/logging.js'
import { sleep } from '../../util/sleep.js'

/** Thrown to abandon work on a partition the archiver no longer owns; nothing is committed. */
export class Abandoned extends Error {}

/** Rethrows anything but `Abandoned`: abandoning is the normal end of work that lost its owner. */
export function ignoreAbandoned(error: unknown): void {
  if (!(error instanceof Abandoned)) throw error
}

/**
 * Runs `work` until it succeeds, with exponential backoff between attempts (200 ms up to 10 s),
 * heartbeating meanwhile so that the group keeps the member. Gives up with `Abandoned` once the
 * partition is no longer owned or `signal` aborts; `work` may throw `Abandoned` itself to stop.
 * An error that says it is not retriable (access denied, no such bucket) is not tried again:
 * `onPermanent` hears it, and the work is abandoned.
 */
export async function retryUntilDone(
  what: string,
  work: () => Promise<void>,
  options: {
    control: BatchControl
    signal: AbortSignal
    logger: Logger
    onFailure: () => void
    onPermanent: (error: unknown) => void
  },
): Promise<void> {
  const { control, signal, logger } = options
  for (let attempt = 1; ; attempt++) {
    if (!control.stillOwned() || signal.aborted) throw new Abandoned(what)
    try {
      await work()
      return
    } catch (error) {
      if (error instanceof Abandoned) throw error
      options.onFailure()
      if (!isRetriable(error)) {
        options.onPermanent(error)
        throw new Abandoned(`${what}: ${messageOf(error)}`)
      }
      const delayMs = backoffDelay(attempt, { initialDelayMs: 200, maxDelayMs: 10_000 })
      logger.warn(`${what} failed; retrying`, {
        attempt,
        delayMs,
        error: error instanceof Error ? error.message : String(error),
      })
      const until = monotonicMs() + delayMs
      while (monotonicMs() < until && !signal.aborted) {
        await control.heartbeat().catch(() => {})
        await sleep(Math.min(1000, until - monotonicMs()), signal)
      }
    }
  }
}
