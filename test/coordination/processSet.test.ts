import { describe, expect, it } from 'vitest'
import type { Process } from '../../src/coordination/process.js'
import {
  dynamicProcesses,
  ProcessSet,
  partitionOfKey,
  stableHash,
  staticProcesses,
} from '../../src/coordination/processSet.js'
import { mulberry32 } from '../helpers/prng.js'

const noop = (): Process => async () => {}

describe('stableHash', () => {
  // FNV-1a 32-bit reference values, computed independently (Python) over the UTF-8 bytes.
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
    ['order-42', 0x572446f4],
    ['héllo', 0x4aa48540],
    ['日本', 0x9f26ee51],
  ])('hashes %j to its FNV-1a value', (key, expected) => {
    expect(stableHash(key)).toBe(expected)
  })

  it('returns an unsigned 32-bit integer', () => {
    const rng = mulberry32(7)
    for (let i = 0; i < 200; i++) {
      const key = String.fromCharCode(...Array.from({ length: rng.int(0, 20) }, () => rng.int(1, 0xd7ff)))
      const hash = stableHash(key)
      expect(Number.isInteger(hash)).toBe(true)
      expect(hash).toBeGreaterThanOrEqual(0)
      expect(hash).toBeLessThan(2 ** 32)
    }
  })
})

describe('partitionOfKey', () => {
  it('is the hash modulo the partition count', () => {
    expect(partitionOfKey('a', 32)).toBe(12)
    expect(partitionOfKey('', 32)).toBe(5)
    expect(partitionOfKey('日本', 32)).toBe(17)
    expect(partitionOfKey('foobar', 7)).toBe(0)
  })

  it('always lands in range', () => {
    const rng = mulberry32(8)
    for (let i = 0; i < 500; i++) {
      const partitions = rng.int(1, 100)
      const p = partitionOfKey(`key-${rng.int(0, 1e9)}`, partitions)
      expect(Number.isInteger(p)).toBe(true)
      expect(p).toBeGreaterThanOrEqual(0)
      expect(p).toBeLessThan(partitions)
    }
  })
})

describe('ProcessSet', () => {
  it('starts with the initial entries', () => {
    const a = noop()
    const set = new ProcessSet([['a', a]])
    expect([...set.current()]).toEqual([['a', a]])
  })

  it('notifies listeners after set and after deleting an existing key', () => {
    const set = new ProcessSet()
    const seen: string[][] = []
    set.subscribe(() => seen.push([...set.current().keys()]))
    const a = noop()
    set.set('a', a)
    set.set('b', noop())
    const replacement = noop()
    set.set('a', replacement)
    expect(set.current().get('a')).toBe(replacement)
    expect(set.delete('b')).toBe(true)
    expect(seen).toEqual([['a'], ['a', 'b'], ['a', 'b'], ['a']])
  })

  it('does not notify when deleting a missing key', () => {
    const set = new ProcessSet()
    let calls = 0
    set.subscribe(() => calls++)
    expect(set.delete('nope')).toBe(false)
    expect(calls).toBe(0)
  })

  it('stops notifying after unsubscribe, and notifies every listener', () => {
    const set = new ProcessSet()
    let first = 0
    let second = 0
    const unsubscribe = set.subscribe(() => first++)
    set.subscribe(() => second++)
    set.set('a', noop())
    unsubscribe()
    set.set('b', noop())
    expect(first).toBe(1)
    expect(second).toBe(2)
  })
})

describe('staticProcesses', () => {
  it('puts process i on partition i mod N under key String(i)', () => {
    const list = Array.from({ length: 10 }, () => noop())
    const keyed = staticProcesses(list, 4)
    expect([...keyed.byPartition(0)]).toEqual([
      ['0', list[0]],
      ['4', list[4]],
      ['8', list[8]],
    ])
    expect([...keyed.byPartition(1)]).toEqual([
      ['1', list[1]],
      ['5', list[5]],
      ['9', list[9]],
    ])
    expect([...keyed.byPartition(3).keys()]).toEqual(['3', '7'])
  })

  it('gives an empty slice to partitions without processes', () => {
    const keyed = staticProcesses([noop(), noop()], 8)
    expect(keyed.byPartition(5).size).toBe(0)
    expect(keyed.byPartition(1).size).toBe(1)
  })

  it('covers every process exactly once', () => {
    const list = Array.from({ length: 37 }, () => noop())
    const keyed = staticProcesses(list, 5)
    const all = [0, 1, 2, 3, 4].flatMap((p) => [...keyed.byPartition(p).entries()])
    expect(all).toHaveLength(37)
    for (const [key, process] of all) expect(process).toBe(list[Number(key)])
  })
})

describe('dynamicProcesses', () => {
  it('slices a source by the stable hash of each key and follows its changes', () => {
    const set = new ProcessSet()
    const keyed = dynamicProcesses(set, 32)
    let changes = 0
    const unsubscribe = keyed.subscribe(() => changes++)
    const a = noop()
    set.set('a', a)
    set.set('foobar', noop())
    expect([...keyed.byPartition(12)]).toEqual([['a', a]])
    expect([...keyed.byPartition(8).keys()]).toEqual(['foobar'])
    expect(keyed.byPartition(0).size).toBe(0)
    expect(changes).toBe(2)
    unsubscribe()
    set.delete('a')
    expect(changes).toBe(2)
    expect(keyed.byPartition(12).size).toBe(0)
  })
})
