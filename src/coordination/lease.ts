/**
 * Milliseconds on the process-wide monotonic clock (CLOCK_MONOTONIC through hrtime). It keeps counting
 * while the process is stopped (SIGSTOP, a VM stall), and worker threads read the same clock.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/**
 * A node's right to run its slices: valid until `lease` ms after the send time of the last group
 * request that succeeded (heartbeat or SyncGroup). The coordinator counts the session from when it
 * received that request, which is later, so the node's view always runs out first.
 */
export class Lease {
  #deadline = Number.NEGATIVE_INFINITY

  constructor(readonly leaseMs: number) {}

  /** Extends the lease from a request's send time (monotonic ms); never moves it backwards. */
  renew(sentAt: number): void {
    this.#deadline = Math.max(this.#deadline, sentAt + this.leaseMs)
  }

  /** Ends the lease now (lost coordinator, crash, new member id). */
  revoke(): void {
    this.#deadline = Number.NEGATIVE_INFINITY
  }

  /** Synchronous and cheap: call before every side effect. */
  valid(now = monotonicMs()): boolean {
    return now < this.#deadline
  }

  get deadline(): number {
    return this.#deadline
  }
}
