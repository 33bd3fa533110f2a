import { setImmediate as flushIo } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Process, ProcessContext, ProcessFailure } from '../../src/coordination/process.js'
import { type SliceHooks, SliceTable, type StopReason } from '../../src/coordination/sliceTable.js'
import { silentLogger } from '../../src/util/logging.js'

/** Lets every pending promise callback run (real macrotask, unaffected by fake setTimeout). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flushIo()
}

interface Recorder {
  readonly hooks: SliceHooks
  lease: boolean
  readonly failures: ProcessFailure[]
  readonly stopped: Array<[number, StopReason]>
  readonly stuck: Array<[number, string]>
  readonly retired: number[]
  /** What the table looked like each time onSliceActive was called. */
  readonly active: Array<{ live: number[]; activeCount: number; startedProcesses: number }>
  table?: SliceTable
  startedProcesses: number
}

function recorder(maxStopMs = 60_000): Recorder {
  const r: Recorder = {
    lease: true,
    failures: [],
    stopped: [],
    stuck: [],
    retired: [],
    active: [],
    startedProcesses: 0,
    hooks: {
      maxStopMs,
      logger: silentLogger,
      isLeaseValid: () => r.lease,
      onFailure: (failure) => r.failures.push(failure),
      onSliceStopped: (partition, reason) => r.stopped.push([partition, reason]),
      onStuck: (partition, key) => r.stuck.push([partition, key]),
      onInstanceRetired: (partition) => r.retired.push(partition),
      onSliceActive: () =>
        r.active.push({
          live: r.table?.live() ?? [],
          activeCount: r.table?.activeCount() ?? -1,
          startedProcesses: r.startedProcesses,
        }),
    },
  }
  return r
}

/**
 * Processes that record their contexts and how many instances of each key run at once. By default
 * an instance settles as soon as it is aborted; `holdOnAbort` makes it wait for `release()`.
 */
class Lab {
  readonly contexts: ProcessContext[] = []
  readonly runningByKey = new Map<string, number>()
  maxConcurrentPerKey = 0
  readonly #releases: Array<() => void> = []

  process(options: { holdOnAbort?: boolean; name?: string; log?: string[] } = {}): Process {
    return async (ctx) => {
      this.contexts.push(ctx)
      options.log?.push(`start ${options.name ?? ctx.key}`)
      const n = (this.runningByKey.get(ctx.key) ?? 0) + 1
      this.runningByKey.set(ctx.key, n)
      this.maxConcurrentPerKey = Math.max(this.maxConcurrentPerKey, n)
      try {
        await new Promise<void>((resolve) => {
          if (options.holdOnAbort) this.#releases.push(resolve)
          else ctx.signal.addEventListener('abort', () => resolve(), { once: true })
        })
      } finally {
        this.runningByKey.set(ctx.key, (this.runningByKey.get(ctx.key) ?? 1) - 1)
        options.log?.push(`end ${options.name ?? ctx.key}`)
      }
    }
  }

  /** Lets every held instance settle. */
  release(): void {
    for (const resolve of this.#releases.splice(0)) resolve()
  }
}

function tracked(promise: Promise<void>): { readonly done: boolean } {
  const state = { done: false }
  void promise.then(() => {
    state.done = true
  })
  return state
}

afterEach(() => {
  vi.useRealTimers()
})

describe('SliceTable', () => {
  it('starts each process of a slice with its partition, key and fencing token', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.run(
      4,
      17,
      new Map([
        ['a', lab.process()],
        ['b', lab.process()],
      ]),
    )
    expect(table.state(4)).toBe('running')
    expect(table.token(4)).toBe(17)
    expect(table.live()).toEqual([4])
    expect(table.activeCount()).toBe(1)
    expect(lab.contexts.map((c) => [c.partition, c.key, c.fencingToken])).toEqual([
      [4, 'a', 17],
      [4, 'b', 17],
    ])
    for (const ctx of lab.contexts) {
      expect(ctx.signal.aborted).toBe(false)
      expect(ctx.isOwner()).toBe(true)
    }
    await table.stopAll('leaving')
  })

  it('lists running instances, sorted, with their state', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.run(5, 2, new Map([['z', lab.process()]]))
    table.run(
      1,
      3,
      new Map([
        ['y', lab.process({ holdOnAbort: true })],
        ['x', lab.process()],
      ]),
    )
    table.wait(9, 4)
    expect(table.running()).toEqual([
      { key: 'x', partition: 1, fencingToken: 3, state: 'running' },
      { key: 'y', partition: 1, fencingToken: 3, state: 'running' },
      { key: 'z', partition: 5, fencingToken: 2, state: 'running' },
    ])
    const stopping = table.stop(1, 'revoked')
    await settle()
    expect(table.running()).toEqual([
      { key: 'y', partition: 1, fencingToken: 3, state: 'stopping' },
      { key: 'z', partition: 5, fencingToken: 2, state: 'running' },
    ])
    lab.release()
    await stopping
    expect(table.running()).toEqual([{ key: 'z', partition: 5, fencingToken: 2, state: 'running' }])
    await table.stopAll('leaving')
    expect(table.running()).toEqual([])
  })

  it('stop aborts every instance and resolves only after all have settled', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.run(
      2,
      1,
      new Map([
        ['quick', lab.process()],
        ['slow', lab.process({ holdOnAbort: true })],
      ]),
    )
    const stop = tracked(table.stop(2, 'revoked'))
    expect(lab.contexts.every((c) => c.signal.aborted)).toBe(true)
    expect(lab.contexts.every((c) => !c.isOwner())).toBe(true)
    expect(table.state(2)).toBe('stopping')
    expect(table.live()).toEqual([2])
    await settle()
    expect(stop.done).toBe(false)
    expect(r.stopped).toEqual([])
    expect(lab.runningByKey.get('slow')).toBe(1)
    lab.release()
    await settle()
    expect(stop.done).toBe(true)
    expect(lab.runningByKey.get('slow')).toBe(0)
    expect(r.stopped).toEqual([[2, 'revoked']])
    expect(table.has(2)).toBe(false)
    expect(table.live()).toEqual([])
  })

  it('stop is idempotent: one promise, one onSliceStopped', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.run(0, 1, new Map([['a', lab.process({ holdOnAbort: true })]]))
    const first = table.stop(0, 'lease-lost')
    const second = table.stop(0, 'revoked')
    expect(second).toBe(first)
    lab.release()
    await Promise.all([first, second])
    expect(r.stopped).toEqual([[0, 'lease-lost']])
    await table.stop(0, 'revoked')
    expect(r.stopped).toEqual([[0, 'lease-lost']])
  })

  it('reports the reason of each stopped slice, and stopAll stops them all', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.run(1, 1, new Map([['a', lab.process()]]))
    table.run(2, 1, new Map([['b', lab.process()]]))
    table.run(3, 1, new Map([['c', lab.process()]]))
    await table.stop(2, 'removed')
    await table.stopAll('leaving')
    expect(r.stopped.sort((a, b) => a[0] - b[0])).toEqual([
      [1, 'leaving'],
      [2, 'removed'],
      [3, 'leaving'],
    ])
    expect(table.live()).toEqual([])
  })

  it('calls onStuck for an instance that ignores its abort for maxStopMs, then still waits for it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const r = recorder(3000)
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.run(
      6,
      1,
      new Map([
        ['stubborn', lab.process({ holdOnAbort: true })],
        ['polite', lab.process()],
      ]),
    )
    const stop = tracked(table.stop(6, 'revoked'))
    await settle()
    await vi.advanceTimersByTimeAsync(2999)
    expect(r.stuck).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(r.stuck).toEqual([[6, 'stubborn']])
    await settle()
    expect(stop.done).toBe(false)
    expect(r.stopped).toEqual([])
    lab.release()
    await settle()
    expect(stop.done).toBe(true)
    expect(r.stopped).toEqual([[6, 'revoked']])
    expect(r.stuck).toEqual([[6, 'stubborn']])
  })

  it('does not call onStuck for instances that settle in time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const r = recorder(3000)
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.run(6, 1, new Map([['a', lab.process({ holdOnAbort: true })]]))
    const stop = table.stop(6, 'revoked')
    await vi.advanceTimersByTimeAsync(2999)
    lab.release()
    await stop
    await vi.advanceTimersByTimeAsync(10_000)
    expect(r.stuck).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('calls onSliceActive before any process code of a starting slice runs, once per start', async () => {
    const r = recorder()
    const table = new SliceTable(r.hooks)
    r.table = table
    const counting: Process = async (ctx) => {
      r.startedProcesses++
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      )
    }
    table.wait(3, 1)
    expect(r.active).toEqual([])
    table.run(
      3,
      1,
      new Map([
        ['a', counting],
        ['b', counting],
      ]),
    )
    // The slice already counts as active, and no process has run yet.
    expect(r.active).toEqual([{ live: [3], activeCount: 1, startedProcesses: 0 }])
    expect(r.startedProcesses).toBe(2)
    // A sync that adds a key to a running slice is not a new start.
    table.sync(
      3,
      new Map([
        ['a', counting],
        ['c', counting],
      ]),
    )
    expect(r.active).toHaveLength(1)
    r.lease = false
    table.run(4, 1, new Map([['d', counting]]))
    expect(r.active).toHaveLength(1)
    r.lease = true
    await table.stopAll('leaving')
  })

  it('starts nothing while the lease is invalid', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    r.lease = false
    const processes = new Map([['a', lab.process()]])
    table.run(3, 5, processes)
    expect(lab.contexts).toEqual([])
    expect(table.running()).toEqual([])
    expect(table.activeCount()).toBe(0)
    expect(table.state(3)).not.toBe('running')
    // Once the lease is back, the slice can start.
    r.lease = true
    table.run(3, 5, processes)
    expect(table.state(3)).toBe('running')
    expect(lab.contexts.map((c) => [c.key, c.fencingToken])).toEqual([['a', 5]])
    await table.stopAll('leaving')
  })

  it('ctx.isOwner() turns false when the lease runs out, and after an abort', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.run(0, 1, new Map([['a', lab.process()]]))
    const ctx = lab.contexts[0]!
    expect(ctx.isOwner()).toBe(true)
    r.lease = false
    expect(ctx.isOwner()).toBe(false)
    r.lease = true
    expect(ctx.isOwner()).toBe(true)
    const stop = table.stop(0, 'revoked')
    expect(ctx.isOwner()).toBe(false)
    await stop
    expect(ctx.isOwner()).toBe(false)
  })

  it('wait reserves a slice that is reported live but runs nothing until run', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.wait(8, 12)
    expect(table.live()).toEqual([8])
    expect(table.state(8)).toBe('waiting')
    expect(table.token(8)).toBe(12)
    expect(table.activeCount()).toBe(0)
    expect(() => table.wait(8, 13)).toThrow()
    // sync does not start a waiting slice.
    table.sync(8, new Map([['a', lab.process()]]))
    expect(lab.contexts).toEqual([])
    table.run(8, 12, new Map([['a', lab.process()]]))
    expect(lab.contexts.map((c) => c.fencingToken)).toEqual([12])
    expect(() => table.run(8, 12, new Map())).toThrow()
    await table.stopAll('leaving')
  })

  it('stops a waiting slice at once', async () => {
    const r = recorder()
    const table = new SliceTable(r.hooks)
    table.wait(8, 12)
    await table.stop(8, 'revoked')
    expect(table.has(8)).toBe(false)
    expect(r.stopped).toEqual([[8, 'revoked']])
  })

  it('sync starts added keys and stops removed ones, leaving the others alone', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    const a = lab.process()
    const b = lab.process()
    table.run(
      1,
      1,
      new Map([
        ['a', a],
        ['b', b],
      ]),
    )
    const [ctxA, ctxB] = lab.contexts
    const c = lab.process()
    table.sync(
      1,
      new Map([
        ['a', a],
        ['c', c],
      ]),
    )
    expect(ctxA!.signal.aborted).toBe(false)
    expect(ctxB!.signal.aborted).toBe(true)
    expect(lab.contexts.map((x) => x.key)).toEqual(['a', 'b', 'c'])
    await settle()
    expect(r.retired).toEqual([1])
    expect(table.running().map((p) => p.key)).toEqual(['a', 'c'])
    expect(table.state(1)).toBe('running')
    await table.stopAll('leaving')
  })

  it('sync starts no new key while the lease is invalid', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    const a = lab.process()
    table.run(1, 1, new Map([['a', a]]))
    r.lease = false
    table.sync(
      1,
      new Map([
        ['a', a],
        ['b', lab.process()],
      ]),
    )
    expect(lab.contexts.map((c) => c.key)).toEqual(['a'])
    await table.stopAll('lease-lost')
  })

  it('starts a replaced process only after the old instance of its key has settled', async () => {
    const r = recorder()
    const lab = new Lab()
    const log: string[] = []
    const table = new SliceTable(r.hooks)
    const old = lab.process({ holdOnAbort: true, name: 'old', log })
    const replacement = lab.process({ name: 'new', log })
    table.run(2, 1, new Map([['k', old]]))
    table.sync(2, new Map([['k', replacement]]))
    expect(lab.contexts[0]!.signal.aborted).toBe(true)
    await settle()
    // Not yet: the old one is still running, even if sync is called again.
    table.sync(2, new Map([['k', replacement]]))
    expect(log).toEqual(['start old'])
    expect(r.retired).toEqual([])
    lab.release()
    await settle()
    expect(r.retired).toEqual([2])
    // The owner of the table re-syncs on onInstanceRetired.
    table.sync(2, new Map([['k', replacement]]))
    expect(log).toEqual(['start old', 'end old', 'start new'])
    expect(lab.maxConcurrentPerKey).toBe(1)
    expect(table.running()).toEqual([{ key: 'k', partition: 2, fencingToken: 1, state: 'running' }])
    await table.stopAll('leaving')
    expect(lab.maxConcurrentPerKey).toBe(1)
  })

  it('stop waits for a retiring instance too', async () => {
    const r = recorder()
    const lab = new Lab()
    const table = new SliceTable(r.hooks)
    table.run(2, 1, new Map([['k', lab.process({ holdOnAbort: true })]]))
    table.sync(2, new Map())
    const stop = tracked(table.stop(2, 'revoked'))
    await settle()
    expect(stop.done).toBe(false)
    lab.release()
    await settle()
    expect(stop.done).toBe(true)
    expect(r.retired).toEqual([2])
    expect(r.stopped).toEqual([[2, 'revoked']])
  })

  it('reports a process that fails on its own, but not one that fails after its abort', async () => {
    const r = recorder()
    const table = new SliceTable(r.hooks)
    const boom = new Error('boom')
    let failNow: (() => void) | undefined
    const failing: Process = () =>
      new Promise((_, reject) => {
        failNow = () => reject(boom)
      })
    const throwsSync: Process = () => {
      throw new Error('sync boom')
    }
    const failsOnAbort: Process = (ctx) =>
      new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('bye'))))
    table.run(
      7,
      1,
      new Map([
        ['failing', failing],
        ['sync', throwsSync],
      ]),
    )
    table.run(8, 1, new Map([['aborted', failsOnAbort]]))
    failNow!()
    await settle()
    expect(r.failures).toHaveLength(2)
    expect(r.failures).toContainEqual({ key: 'failing', partition: 7, error: boom })
    expect(r.failures).toContainEqual(
      expect.objectContaining({
        key: 'sync',
        partition: 7,
        error: expect.objectContaining({ message: 'sync boom' }),
      }),
    )
    // The failed instances are no longer listed; the one on partition 8 still runs.
    expect(table.running()).toEqual([{ key: 'aborted', partition: 8, fencingToken: 1, state: 'running' }])
    await table.stopAll('leaving')
    expect(r.failures).toHaveLength(2)
    expect(r.stopped.map(([p]) => p).sort()).toEqual([7, 8])
  })

  it('does not restart an instance that ended by itself on the next sync', async () => {
    const r = recorder()
    const table = new SliceTable(r.hooks)
    let runs = 0
    const once: Process = async () => {
      runs++
    }
    const processes = new Map([['once', once]])
    table.run(0, 1, processes)
    await settle()
    expect(table.running()).toEqual([])
    table.sync(0, processes)
    expect(runs).toBe(1)
    expect(r.failures).toEqual([])
    await table.stopAll('leaving')
  })
})
