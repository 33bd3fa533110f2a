/**
 * A concurrency limit that adapts to throttling, as TCP does to congestion (additive increase,
 * multiplicative decrease): each throttled request (S3's 503 SlowDown) halves the limit, at most once
 * per round of requests that were already under way, and every `limit` requests that succeed in a
 * row raise it by one, up to `max`. Waiters are served in order.
 */
export class AdaptiveLimit {
  #limit: number
  #active = 0
  #successes = 0
  /** Requests started before the last decrease: their throttles belong to the same round. */
  #startedSinceDecrease = Number.POSITIVE_INFINITY
  readonly #waiters: Array<() => void> = []
  /** Throttles seen, for metrics and tests. */
  throttles = 0

  constructor(
    readonly max: number,
    readonly min = 1,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`max must be a positive integer, got ${max}`)
    this.#limit = max
  }

  /** Requests allowed at once now. */
  get limit(): number {
    return this.#limit
  }

  get active(): number {
    return this.#active
  }

  /** Runs `work` once a slot is free; `isThrottle` tells throttling errors from other failures. */
  async run<T>(work: () => Promise<T>, isThrottle: (error: unknown) => boolean): Promise<T> {
    await this.#acquire()
    this.#startedSinceDecrease++
    try {
      const result = await work()
      this.#succeeded()
      return result
    } catch (error) {
      if (isThrottle(error)) this.throttled()
      throw error
    } finally {
      this.#active--
      this.#wake()
    }
  }

  /** One throttled attempt (also called for attempts the SDK retries by itself). */
  throttled(): void {
    this.throttles++
    this.#successes = 0
    // Requests already under way when the limit dropped were admitted under the old limit: their
    // throttles say nothing new, so one round halves the limit once.
    if (this.#startedSinceDecrease < this.#limit) return
    this.#limit = Math.max(this.min, Math.floor(this.#limit / 2))
    this.#startedSinceDecrease = 0
  }

  #succeeded(): void {
    if (++this.#successes < this.#limit) return
    this.#successes = 0
    if (this.#limit < this.max) {
      this.#limit++
      this.#wake()
    }
  }

  #acquire(): Promise<void> {
    if (this.#active < this.#limit && this.#waiters.length === 0) {
      this.#active++
      return Promise.resolve()
    }
    return new Promise((resolve) =>
      this.#waiters.push(() => {
        this.#active++
        resolve()
      }),
    )
  }

  #wake(): void {
    while (this.#active < this.#limit && this.#waiters.length > 0) this.#waiters.shift()?.()
  }
}
