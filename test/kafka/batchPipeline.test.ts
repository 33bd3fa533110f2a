// The batch pipeline lets the consumer fetch on while batches wait their turn; what kafkajs did
// for a failed batch (read it again, nothing after it first) and for a rebalance must still hold.
import { describe, expect, it } from 'vitest'
import { BatchPipeline } from '../../src/kafka/batchPipeline.js'

const tick = () => new Promise((r) => setTimeout(r, 0))

/** A work that records its batch when it runs, and can be held open until released. */
function recorder() {
  const ran: string[] = []
  const gates = new Map<string, () => void>()
  const work =
    (name: string, o: { hold?: boolean; fail?: boolean } = {}) =>
    async () => {
      ran.push(`start ${name}`)
      if (o.hold) await new Promise<void>((r) => gates.set(name, r))
      if (o.fail) throw new Error(`${name} failed`)
      ran.push(`end ${name}`)
    }
  return { ran, work, release: (name: string) => gates.get(name)?.() }
}

describe('BatchPipeline', () => {
  it('runs batches one at a time in push order, and lets the caller go on while little waits', async () => {
    const pipeline = new BatchPipeline(1000)
    const { ran, work, release } = recorder()
    const pushed: string[] = []
    const a = pipeline.push(0, 0, 100, work('a', { hold: true }), () => {}).then(() => pushed.push('a'))
    const b = pipeline.push(1, 0, 100, work('b'), () => {}).then(() => pushed.push('b'))
    await Promise.all([a, b])
    // Both pushes returned while a was still under way: the consumer may fetch on.
    expect(pushed).toEqual(['a', 'b'])
    expect(ran).toEqual(['start a'])
    release('a')
    await pipeline.settled()
    expect(ran).toEqual(['start a', 'end a', 'start b', 'end b'])
  })

  it('makes the caller wait for its batch once more than aheadBytes wait', async () => {
    const pipeline = new BatchPipeline(150)
    const { work, release } = recorder()
    let returned = false
    void pipeline.push(0, 0, 100, work('a', { hold: true }), () => {})
    const second = pipeline
      .push(0, 10, 100, work('b'), () => {})
      .then(() => {
        returned = true
      })
    await tick()
    expect(returned).toBe(false)
    release('a')
    await second
    expect(returned).toBe(true)
  })

  it('lets a waiting caller go on once the batches before it are done, while its own still runs', async () => {
    // The consumer fetches again while this batch is under way: the work does not wait for the broker.
    const pipeline = new BatchPipeline(150)
    const { ran, work, release } = recorder()
    void pipeline.push(0, 0, 100, work('a', { hold: true }), () => {})
    let returned = false
    const second = pipeline
      .push(0, 10, 100, work('b', { hold: true }), () => {})
      .then(() => {
        returned = true
      })
    await tick()
    expect(returned).toBe(false)
    release('a')
    await second
    await tick()
    expect(ran).toEqual(['start a', 'end a', 'start b'])
    release('b')
    await pipeline.settled()
    expect(ran).toEqual(['start a', 'end a', 'start b', 'end b'])
  })

  it('makes the caller wait once more than aheadBatches wait, however small they are', async () => {
    const pipeline = new BatchPipeline(1_000_000, 2)
    const { work, release } = recorder()
    void pipeline.push(0, 0, 1, work('a', { hold: true }), () => {})
    let returned = 0
    const pushes = [1, 2].map((p) => pipeline.push(p, 0, 1, work(`b${p}`), () => {}).then(() => returned++))
    await tick()
    // Three batches wait or run (a, b1, b2): more than two, so the last push waits for its batch.
    expect(returned).toBe(1)
    release('a')
    await Promise.all(pushes)
    expect(returned).toBe(2)
  })

  it('after a failed batch: rewinds to its first offset, drops the partition’s later batches until it is read again, gives the error once', async () => {
    const pipeline = new BatchPipeline(10_000)
    const { ran, work } = recorder()
    const rewinds: string[] = []
    void pipeline.push(0, 100, 1, work('p0@100', { fail: true }), () => rewinds.push('p0→100'))
    void pipeline.push(0, 150, 1, work('p0@150'), () => {})
    void pipeline.push(1, 100, 1, work('p1@100'), () => {})
    await pipeline.push(0, 200, 1, work('p0@200'), () => {})
    await tick()
    expect(rewinds).toEqual(['p0→100'])
    // Partition 1 goes on; partition 0 skips what came after the failure.
    expect(ran).toEqual(['start p0@100', 'start p1@100', 'end p1@100'])
    expect(pipeline.drops(0, 200)).toBe(true)
    expect(pipeline.drops(0, 100)).toBe(false)
    expect(pipeline.drops(1, 200)).toBe(false)
    expect(() => pipeline.throwIfFailed()).toThrow('p0@100 failed')
    expect(() => pipeline.throwIfFailed()).not.toThrow()
    // The re-read batch starts at the rewound offset: it runs, and so do the ones after it.
    void pipeline.push(0, 100, 1, work('p0@100 again'), () => {})
    await pipeline.push(0, 150, 1, work('p0@150 again'), () => {})
    await tick()
    expect(ran.slice(3)).toEqual([
      'start p0@100 again',
      'end p0@100 again',
      'start p0@150 again',
      'end p0@150 again',
    ])
  })

  it('drops the batches queued before a new assignment, and everything once closed', async () => {
    const pipeline = new BatchPipeline(10_000)
    const { ran, work, release } = recorder()
    void pipeline.push(0, 0, 1, work('a', { hold: true }), () => {})
    void pipeline.push(1, 0, 1, work('old b'), () => {})
    await tick()
    // a is under way (it finishes: its owner checks the ownership itself); old b waits and is dropped.
    pipeline.newGeneration()
    void pipeline.push(1, 0, 1, work('new b'), () => {})
    await tick()
    release('a')
    await pipeline.push(2, 0, 1, work('c'), () => {})
    await tick()
    expect(ran).toEqual(['start a', 'end a', 'start new b', 'end new b', 'start c', 'end c'])
    void pipeline.push(3, 0, 1, work('d', { hold: true }), () => {})
    void pipeline.push(4, 0, 1, work('e'), () => {})
    await tick()
    const closed = pipeline.close()
    release('d')
    await closed
    expect(ran.slice(6)).toEqual(['start d', 'end d'])
    expect(pipeline.drops(5, 0)).toBe(true)
  })
})
