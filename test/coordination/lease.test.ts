import { describe, expect, it } from 'vitest'
import { Lease, type LeaseClock, monotonicMs, monotonicSentAt } from '../../src/coordination/lease.js'

/** A clock a test moves by hand: `advance` moves both clocks, `suspend` only the wall clock. */
function manualClock(start = 100_000): LeaseClock & { advance(ms: number): void; suspend(ms: number): void } {
  let mono = start
  let wall = 1_700_000_000_000
  return {
    monotonic: () => mono,
    wall: () => wall,
    advance(ms) {
      mono += ms
      wall += ms
    },
    suspend(ms) {
      wall += ms
    },
  }
}

const timings = { leaseMs: 1000, rebalanceLeaseMs: 5000, clockJumpMs: 100 }

describe('Lease', () => {
  it('is invalid until renewed', () => {
    const clock = manualClock()
    const lease = new Lease(timings, clock)
    expect(lease.deadline).toBe(Number.NEGATIVE_INFINITY)
    expect(lease.valid()).toBe(false)
  })

  it('is valid strictly before sentAt + leaseMs', () => {
    const clock = manualClock(5000)
    const lease = new Lease(timings, clock)
    lease.renew(5000)
    expect(lease.deadline).toBe(6000)
    expect(lease.valid(5000)).toBe(true)
    expect(lease.valid(5999.9)).toBe(true)
    expect(lease.valid(6000)).toBe(false)
    expect(lease.valid(7000)).toBe(false)
  })

  it('never moves the deadline backwards', () => {
    const lease = new Lease(timings, manualClock())
    lease.renew(5000)
    lease.renew(4000)
    expect(lease.deadline).toBe(6000)
    lease.renew(5500)
    expect(lease.deadline).toBe(6500)
  })

  it('is invalid after revoke until the next renewal, which may then be older', () => {
    const lease = new Lease(timings, manualClock())
    lease.renew(5000)
    lease.revoke()
    expect(lease.deadline).toBe(Number.NEGATIVE_INFINITY)
    expect(lease.valid(5001)).toBe(false)
    lease.renew(4500)
    expect(lease.deadline).toBe(5500)
    expect(lease.valid(5001)).toBe(true)
  })

  it('renews during a rebalance like a heartbeat, but never past lastStable + rebalanceLeaseMs', () => {
    const lease = new Lease(timings, manualClock())
    // Before the group was ever seen stable, a rebalance answer renews nothing.
    lease.renewInRebalance(1000)
    expect(lease.deadline).toBe(Number.NEGATIVE_INFINITY)
    lease.renew(10_000)
    lease.renewInRebalance(10_500)
    expect(lease.deadline).toBe(11_500)
    lease.renewInRebalance(14_500)
    expect(lease.deadline).toBe(15_000)
    lease.renewInRebalance(20_000)
    expect(lease.deadline).toBe(15_000)
    // A stable renewal moves the cap.
    lease.renew(20_100)
    expect(lease.deadline).toBe(21_100)
    lease.renewInRebalance(21_000)
    expect(lease.deadline).toBe(22_000)
  })

  it('is revoked when the wall clock jumps ahead of the monotonic clock (suspend, VM pause)', () => {
    const clock = manualClock()
    const lease = new Lease(timings, clock)
    lease.renew(clock.monotonic())
    clock.advance(200)
    expect(lease.valid()).toBe(true)
    clock.suspend(150)
    expect(lease.valid()).toBe(false)
    // A renewal sent before the jump does not bring it back...
    lease.renew(clock.monotonic() - 100)
    expect(lease.valid()).toBe(true)
    // ...but only because the jump was already seen; one sent after it does.
    const fresh = new Lease(timings, clock)
    fresh.renew(clock.monotonic())
    clock.suspend(500)
    fresh.renew(clock.monotonic() - 300)
    expect(fresh.valid()).toBe(false)
    fresh.renew(clock.monotonic())
    expect(fresh.valid()).toBe(true)
  })

  it('tolerates wall-clock drift within clockJumpMs, also backwards', () => {
    const clock = manualClock()
    const lease = new Lease(timings, clock)
    lease.renew(clock.monotonic())
    clock.suspend(60)
    expect(lease.valid()).toBe(true)
    clock.suspend(-120)
    expect(lease.valid()).toBe(true)
    clock.suspend(-50)
    expect(lease.valid()).toBe(false)
  })

  it('checks the real monotonic clock by default', () => {
    const lease = new Lease({ ...timings, leaseMs: 60_000 })
    expect(lease.valid()).toBe(false)
    lease.renew(monotonicMs())
    expect(lease.valid()).toBe(true)
    const expired = new Lease(timings)
    expired.renew(monotonicMs() - 2000)
    expect(expired.valid()).toBe(false)
  })
})

describe('monotonicSentAt', () => {
  it('takes the wall-clock time elapsed since the send, so a suspend in flight makes a request older', () => {
    const clock = manualClock()
    const sentWall = clock.wall()
    const sentMono = clock.monotonic()
    clock.advance(40)
    expect(monotonicSentAt(sentWall, clock)).toBe(sentMono)
    clock.suspend(5000)
    expect(monotonicSentAt(sentWall, clock)).toBe(sentMono - 5000)
  })
})

describe('monotonicMs', () => {
  it('never goes backwards', () => {
    let previous = monotonicMs()
    for (let i = 0; i < 1000; i++) {
      const now = monotonicMs()
      expect(now).toBeGreaterThanOrEqual(previous)
      previous = now
    }
  })
})
