/**
 * One shared, lazily started piece of async work (a connection, a topic creation): every caller of
 * `get()` waits for the same attempt; a failed attempt is forgotten so that the next `get()` retries.
 * Like kafkajs's `sharedPromiseTo`, plus `take()` to close what was opened.
 */
export class SharedPromise<T> {
  #current: Promise<T> | undefined

  constructor(private readonly create: () => Promise<T>) {}

  get(): Promise<T> {
    if (this.#current) return this.#current
    const attempt = this.create()
    this.#current = attempt
    attempt.catch(() => {
      if (this.#current === attempt) this.#current = undefined
    })
    return attempt
  }

  /** Forgets the current value and resolves with it if it was created (undefined otherwise). */
  async take(): Promise<T | undefined> {
    const current = this.#current
    this.#current = undefined
    return current?.catch(() => undefined)
  }
}
