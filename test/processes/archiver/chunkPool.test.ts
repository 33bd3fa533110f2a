import { describe, expect, it } from 'vitest'
import { ChunkPool } from '../../../src/processes/archiver/chunkPool.js'

describe('ChunkPool', () => {
  it('hands a given-back chunk out again, the same memory, and keeps at most `keep`', () => {
    const pool = new ChunkPool(1024, 2)
    const [a, b, c] = [pool.take(), pool.take(), pool.take()]
    expect(a.length).toBe(1024)
    pool.give(a.subarray(0, 100)) // a view of its start: the whole chunk comes back
    pool.give(b)
    pool.give(c)
    expect(pool.free).toBe(2)
    const again = [pool.take(), pool.take()]
    expect(again.map((x) => x.buffer)).toEqual(expect.arrayContaining([a.buffer, b.buffer]))
    expect(again.every((x) => x.length === 1024)).toBe(true)
    expect(pool.free).toBe(0)
  })

  it('keeps nothing that is not a chunk of its size of its own (a view elsewhere could still be read)', () => {
    const pool = new ChunkPool(1024, 8)
    const shared = Buffer.allocUnsafeSlow(2048)
    pool.give(shared.subarray(0, 1024))
    pool.give(shared.subarray(1024))
    pool.give(Buffer.allocUnsafeSlow(512))
    pool.give(Buffer.from('small')) // from Node's shared 8 KiB slab
    expect(pool.free).toBe(0)
  })
})
