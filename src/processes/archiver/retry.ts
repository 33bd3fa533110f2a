import { monotonicMs } from '../../coordination/lease.js'
import { backoffDelay } from '../../coordination/supervision.js'
import type { BatchControl } from '../../kafka/topicConsumer.js'
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
 */
export async function retryUntilDone(
  what: string,
  work: () => Promise<void>,
  options: { control: BatchControl; signal: AbortSignal; logger: Logger; onFailure: () => void },
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

/** Waits for `promise` to settle, at most `ms`; clears its timer either way. */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  try {
    await Promise.race([promise.then(noop, noop), timeout])
  } finally {
    clearTimeout(timer)
  }
}

function noop(): void {}
