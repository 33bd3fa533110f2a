import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Process, ProcessContext } from '../../src/coordination/process.js'
import { backoffDelay, supervise } from '../../src/coordination/supervision.js'
import { createTestContext, type TestContext } from '../../src/coordination/testContext.js'
import { mulberry32 } from '../helpers/prng.js'

const middle = (): number => 0.5

describe('backoffDelay', () => {
  it('starts at the initial delay and grows by the factor', () => {
    const options = { initialDelayMs: 100, factor: 3, maxDelayMs: 1e9 }
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, options, middle))).toEqual([100, 300, 900, 2700, 8100])
  })

  it('has the documented defaults: 200 ms, doubling, capped at 30 s', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, {}, middle))).toEqual([200, 400, 800, 1600])
    expect(backoffDelay(8, {}, middle)).toBe(25_600)
    expect(backoffDelay(9, {}, middle)).toBe(30_000)
    expect(backoffDelay(1000, {}, middle)).toBe(30_000)
  })

  it('is capped at maxDelayMs', () => {
    const options = { initialDelayMs: 100, factor: 2, maxDelayMs: 1000, jitter: 0 }
    expect([4, 5, 6, 50].map((n) => backoffDelay(n, options))).toEqual([800, 1000, 1000, 1000])
  })

  it('spreads each wait by at most ±jitter', () => {
    const options = { initialDelayMs: 1000, factor: 2, maxDelayMs: 1e9, jitter: 0.25 }
    expect(backoffDelay(1, options, () => 0)).toBe(750)
    expect(backoffDelay(2, options, () => 0)).toBe(1500)
    expect(backoffDelay(1, options, () => 0.999_999)).toBe(1250)
    const rng = mulberry32(3)
    const seen = new Set<number>()
    for (let i = 0; i < 500; i++) {
      const attempt = rng.int(1, 6)
      const base = 1000 * 2 ** (attempt - 1)
      const delay = backoffDelay(attempt, options, rng.next)
      expect(delay).toBeGreaterThanOrEqual(base * 0.75)
      expect(delay).toBeLessThanOrEqual(base * 1.25)
      if (attempt === 1) seen.add(delay)
    }
    // The jitter actually spreads the waits.
    expect(seen.size).toBeGreaterThan(10)
  })

  it('uses Math.random by default and never returns a negative wait', () => {
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(1, { initialDelayMs: 100, jitter: 1.5 })
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(250)
    }
  })

  // SuperviseOptions documents maxDelayMs as the "upper bound of the wait".
  it('never waits longer than maxDelayMs, jitter included', () => {
    expect(backoffDelay(20, { maxDelayMs: 30_000, jitter: 0.2 }, () => 0.99)).toBeLessThanOrEqual(30_000)
  })
})

function harness(): TestContext {
  return createTestContext({ partition: 3, key: 'k', fencingToken: 9 })
}

/** A process whose runs fail (with "fail <n>") for as long as `failing()` says so, else run until aborted. */
function flaky(failing: (run: number) => boolean): { process: Process; runs: () => number } {
  let runs = 0
  const process: Process = async (ctx) => {
    runs++
    if (failing(runs)) throw new Error(`fail ${runs}`)
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    )
  }
  return { process, runs: () => runs }
}

describe('supervise', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  const options = { initialDelayMs: 100, factor: 2, maxDelayMs: 10_000, jitter: 0, maxRestarts: 5 }

  it('restarts a failing process after the backoff delays', async () => {
    const h = harness()
    const { process, runs } = flaky((run) => run <= 2)
    const done = supervise(process, options)(h.ctx)
    await vi.advanceTimersByTimeAsync(0)
    expect(runs()).toBe(1)
    await vi.advanceTimersByTimeAsync(99)
    expect(runs()).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs()).toBe(2)
    await vi.advanceTimersByTimeAsync(199)
    expect(runs()).toBe(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs()).toBe(3)
    // The third run is healthy: nothing more happens until it is aborted.
    await vi.advanceTimersByTimeAsync(60_000)
    expect(runs()).toBe(3)
    h.abort()
    await expect(done).resolves.toBeUndefined()
    expect(runs()).toBe(3)
  })

  it('stops restarting when aborted during the backoff, and resolves', async () => {
    const h = harness()
    const { process, runs } = flaky(() => true)
    const done = supervise(process, options)(h.ctx)
    await vi.advanceTimersByTimeAsync(50)
    expect(runs()).toBe(1)
    h.abort()
    await expect(done).resolves.toBeUndefined()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(runs()).toBe(1)
  })

  it('resolves when the process fails because it was aborted', async () => {
    const h = harness()
    const process: Process = (ctx) =>
      new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))))
    const done = supervise(process, options)(h.ctx)
    await vi.advanceTimersByTimeAsync(10)
    h.abort()
    await expect(done).resolves.toBeUndefined()
  })

  it('does not start at all when already aborted', async () => {
    const h = harness()
    h.abort()
    const { process, runs } = flaky(() => false)
    await supervise(process, options)(h.ctx)
    expect(runs()).toBe(0)
  })

  it('does not restart once the node is no longer the owner', async () => {
    const h = harness()
    const { process, runs } = flaky(() => true)
    const done = supervise(process, options)(h.ctx)
    await vi.advanceTimersByTimeAsync(0)
    h.loseOwnership()
    await vi.advanceTimersByTimeAsync(1000)
    await expect(done).resolves.toBeUndefined()
    expect(runs()).toBe(1)
  })

  it('passes the failure on after maxRestarts restarts in a row', async () => {
    const h = harness()
    const { process, runs } = flaky(() => true)
    const done = supervise(process, { ...options, maxRestarts: 3 })(h.ctx)
    const outcome = done.then(
      () => 'resolved',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    )
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 - 1)
    expect(runs()).toBe(3)
    await vi.advanceTimersByTimeAsync(1)
    // The first run and 3 restarts, all failed: the last error is passed on.
    expect(await outcome).toBe('fail 4')
    expect(runs()).toBe(4)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(runs()).toBe(4)
  })

  it('counts only consecutive failures: a long healthy run resets the count and the wait', async () => {
    const h = harness()
    let runs = 0
    const process: Process = async () => {
      runs++
      // The 2nd run fails only after a healthy minute; the others fail at once.
      if (runs === 2) await new Promise((resolve) => setTimeout(resolve, 60_000))
      throw new Error(`fail ${runs}`)
    }
    const done = supervise(process, { ...options, maxRestarts: 1, resetAfterMs: 60_000 })(h.ctx)
    const outcome = done.then(
      () => 'resolved',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    )
    await vi.advanceTimersByTimeAsync(100) // first restart
    expect(runs).toBe(2)
    await vi.advanceTimersByTimeAsync(60_000) // the long run fails: count reset, restart after 100 ms
    expect(runs).toBe(2)
    await vi.advanceTimersByTimeAsync(100)
    expect(runs).toBe(3)
    // The 3rd run fails at once: 2 in a row > maxRestarts 1.
    expect(await outcome).toBe('fail 3')
  })

  it('ends when the process completes by itself, unless restartOnCompletion', async () => {
    const h = harness()
    let runs = 0
    const completes: Process = async () => {
      runs++
    }
    await supervise(completes, options)(h.ctx)
    expect(runs).toBe(1)

    runs = 0
    const done = supervise(completes, { ...options, restartOnCompletion: true })(h.ctx)
    await vi.advanceTimersByTimeAsync(0)
    expect(runs).toBe(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(runs).toBe(2)
    await vi.advanceTimersByTimeAsync(100)
    expect(runs).toBe(3)
    h.abort()
    await expect(done).resolves.toBeUndefined()
    expect(runs).toBe(3)
  })

  it('hands the same context to every run', async () => {
    const h = harness()
    const seen: ProcessContext[] = []
    let runs = 0
    const process: Process = async (ctx) => {
      seen.push(ctx)
      runs++
      if (runs < 3) throw new Error('again')
    }
    await Promise.all([supervise(process, options)(h.ctx), vi.advanceTimersByTimeAsync(1000)])
    expect(seen).toHaveLength(3)
    for (const ctx of seen) expect(ctx).toBe(h.ctx)
  })
})
