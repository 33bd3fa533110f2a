import { describe, expect, it } from 'vitest'
import { Lease, monotonicMs } from '../../src/coordination/lease.js'

describe('Lease', () => {
  it('is invalid until renewed', () => {
    const lease = new Lease(1000)
    expect(lease.deadline).toBe(Number.NEGATIVE_INFINITY)
    expect(lease.valid(0)).toBe(false)
    expect(lease.valid(-1e12)).toBe(false)
  })

  it('is valid strictly before sentAt + leaseMs', () => {
    const lease = new Lease(1000)
    lease.renew(5000)
    expect(lease.deadline).toBe(6000)
    expect(lease.valid(5000)).toBe(true)
    expect(lease.valid(5999.9)).toBe(true)
    expect(lease.valid(6000)).toBe(false)
    expect(lease.valid(7000)).toBe(false)
  })

  it('never moves the deadline backwards', () => {
    const lease = new Lease(1000)
    lease.renew(5000)
    lease.renew(4000)
    expect(lease.deadline).toBe(6000)
    lease.renew(5500)
    expect(lease.deadline).toBe(6500)
    lease.renew(5500)
    expect(lease.deadline).toBe(6500)
  })

  it('is invalid after revoke until the next renewal, which may then be older', () => {
    const lease = new Lease(1000)
    lease.renew(5000)
    lease.revoke()
    expect(lease.deadline).toBe(Number.NEGATIVE_INFINITY)
    expect(lease.valid(5001)).toBe(false)
    lease.renew(4500)
    expect(lease.deadline).toBe(5500)
    expect(lease.valid(5001)).toBe(true)
  })

  it('checks the monotonic clock by default', () => {
    const lease = new Lease(60_000)
    expect(lease.valid()).toBe(false)
    lease.renew(monotonicMs())
    expect(lease.valid()).toBe(true)
    const expired = new Lease(1000)
    expired.renew(monotonicMs() - 2000)
    expect(expired.valid()).toBe(false)
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
