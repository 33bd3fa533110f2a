import { randomBytes } from 'node:crypto'

/** A name unique to this run, so tests sharing one broker never see each other's topics or groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/** Polls `probe` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  )
}

/**
 * Polls `probe` like `eventually`, for as long as `progress` (a fingerprint of what should be
 * moving) keeps changing: fails when it has stood still for `stillMs`, or after `maxMs` in all,
 * with `diagnosis()` in the message. For waits whose length follows the machine's speed.
 */
export async function eventuallyWhileMoving<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  progress: () => Promise<string>,
  o: { stillMs: number; maxMs: number; everyMs?: number; diagnosis: () => Promise<string> },
): Promise<T> {
  const began = Date.now()
  let last = ''
  let movedAt = began
  let why = ''
  while (true) {
    try {
      const value = await probe()
      if (value !== undefined) return value
      const now = await progress()
      if (now !== last) [last, movedAt] = [now, Date.now()]
    } catch (error) {
      why = `: ${String(error)}`
    }
    const stillFor = Date.now() - movedAt
    if (stillFor > o.stillMs || Date.now() - began > o.maxMs) {
      const reason =
        stillFor > o.stillMs ? `nothing moved for ${stillFor} ms` : `not there after ${o.maxMs} ms`
      throw new Error(`${reason} waiting for ${what}${why} (last: ${last})\n${await o.diagnosis()}`)
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 1000))
  }
}
