/** Raised by `withTimeout` when the work did not settle in time. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError'
}

/**
 * `work`, or a TimeoutError after `ms` (`what` names it in the message). The timer is cleared
 * either way; `work` itself goes on (abort it through its own signal if it must stop).
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${formatMs(ms)} (${what})`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Waits until `promise` settles, at most `ms`; never rejects. */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  await withTimeout(promise, ms, 'settle').catch(() => {})
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`
}
