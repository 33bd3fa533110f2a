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

/** Raised by `untilAborted` when the signal aborted first. */
export class AbortedError extends Error {
  override readonly name = 'AbortedError'
}

/**
 * `work`, or an AbortedError as soon as `signal` aborts: a process stops waiting for a call that
 * cannot be cancelled (a Kafka request retrying against a broker that is gone) and lets it finish,
 * or fail, on its own.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {})
    return Promise.reject(new AbortedError('aborted'))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => {})
      reject(new AbortedError('aborted'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
