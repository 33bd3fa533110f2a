/**
 * Milliseconds on the process-wide monotonic clock (CLOCK_MONOTONIC through hrtime). It keeps counting
 * while the process is stopped (SIGSTOP), every process of the machine reads the same clock, and
 * worker threads too. It does not count a suspend of the whole machine: see `Lease`.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** The two clocks a lease reads; injectable for tests. */
export interface LeaseClock {
  monotonic(): number
  wall(): number
}

export const systemClock: LeaseClock = { monotonic: monotonicMs, wall: () => Date.now() }

export interface LeaseTimings {
  /** How long a renewal keeps the lease: min(session, rebalance timeout) − maxStop − margin. */
  readonly leaseMs: number
  /** How long after the group was last seen stable a rebalance may keep it: rebalance timeout − maxStop − margin. */
  readonly rebalanceLeaseMs: number
  /** A jump of the wall clock against the monotonic one by more than this revokes the lease. */
  readonly clockJumpMs: number
}

/**
 * A node's right to run its slices. The argument (see README.md in this folder, "The lease"):
 *
 * - A heartbeat answered without error, or a SyncGroup that delivered an assignment, proves that the
 *   coordinator restarted this member's session when it received the request, which is after we
 *   sent it: the coordinator cannot expire the member before `sentAt + session`. The lease ends
 *   `maxStop + margin` earlier, so every slice has stopped before the group can move it.
 * - During a rebalance the coordinator still restarts the session for a heartbeat it answers with
 *   REBALANCE_IN_PROGRESS (kdp sends those on a side connection while kafkajs waits in JoinGroup), so
 *   such an answer renews the lease the same way. A member that is still in the group at the end
 *   of the join phase keeps every partition it reported live (the leader never gives a live
 *   partition to another member). The join phase ends at the latest a rebalance timeout after it
 *   began, and it began after the last heartbeat answered "stable": a member whose JoinGroup never
 *   arrived is removed no earlier than that. So renewals during a rebalance are capped at
 *   `lastStable + rebalanceLeaseMs`.
 * - CLOCK_MONOTONIC stops while the machine is suspended (or a VM is paused), while the
 *   coordinator's clock does not: if the wall clock moves against the monotonic one by more than
 *   `clockJumpMs`, the lease is revoked. Send times of requests are taken from the wall clock and
 *   converted when the answer arrives (see `monotonicSentAt`), so that a suspend while a request was
 *   in flight makes the request look older, never younger.
 */
export class Lease {
  #deadline = Number.NEGATIVE_INFINITY
  /** Monotonic send time of the last renewal that saw the group stable. */
  #lastStable = Number.NEGATIVE_INFINITY
  /** wall − monotonic, as last seen without a jump. */
  #skew: number

  constructor(
    readonly timings: LeaseTimings,
    private readonly clock: LeaseClock = systemClock,
  ) {
    this.#skew = clock.wall() - clock.monotonic()
  }

  get leaseMs(): number {
    return this.timings.leaseMs
  }

  /** Extends the lease from the send time (monotonic ms) of a request the group answered as stable. */
  renew(sentAt: number): void {
    this.#lastStable = Math.max(this.#lastStable, sentAt)
    this.#extendTo(sentAt + this.timings.leaseMs)
  }

  /** Extends the lease from a heartbeat answered REBALANCE_IN_PROGRESS, within the rebalance cap. */
  renewInRebalance(sentAt: number): void {
    this.#extendTo(Math.min(sentAt + this.timings.leaseMs, this.#lastStable + this.timings.rebalanceLeaseMs))
  }

  /** Ends the lease now (lost coordinator, crash, new member id). */
  revoke(): void {
    this.#deadline = Number.NEGATIVE_INFINITY
  }

  /** Synchronous and cheap: call before every side effect. */
  valid(now = this.clock.monotonic()): boolean {
    if (now >= this.#deadline) return false
    const skew = this.clock.wall() - this.clock.monotonic()
    if (Math.abs(skew - this.#skew) > this.timings.clockJumpMs) {
      // Renewals never reset the reference: one sent before the jump must not hide it.
      this.#skew = skew
      this.revoke()
      return false
    }
    return true
  }

  get deadline(): number {
    return this.#deadline
  }

  #extendTo(deadline: number): void {
    this.#deadline = Math.max(this.#deadline, deadline)
  }
}

/**
 * The monotonic time at which a request was sent, from its wall-clock send time: now minus the
 * wall-clock time elapsed since. A suspend while it was in flight counts as elapsed (the monotonic
 * clock would not see it), which can only make the request look older: the safe direction.
 */
export function monotonicSentAt(sentAtWallMs: number, clock: LeaseClock = systemClock): number {
  return clock.monotonic() - Math.max(0, clock.wall() - sentAtWallMs)
}
