import { describe, expect, it } from 'vitest'
import {
  type BufferedRecord,
  FileRotation,
  type RotationRules,
} from '../../../src/processes/archiver/fileRotation.js'
import { decodeConfigFields } from '../../../src/processes/state/topicConfig.js'

/** Appends and says whether the rotation wants the file flushed, as the archiver asks. */
function addAndCheck(rotation: FileRotation, path: string, record: BufferedRecord, now: number): boolean {
  return rotation.mustFlush(rotation.append(path, record, now))
}

const unlimited: RotationRules = {
  maxBytes: Number.MAX_SAFE_INTEGER,
  maxRecords: Number.MAX_SAFE_INTEGER,
  maxSpanMs: Number.MAX_SAFE_INTEGER,
  maxAgeMs: null,
  idleMs: null,
}

function rules(overrides: Partial<RotationRules>): RotationRules {
  return { ...unlimited, ...overrides }
}

function rec(offset: number, body = 'x', timeMs = 1_000_000): BufferedRecord {
  return { offset, body: Buffer.from(body), timeMs, sortKey: undefined }
}

describe('FileRotation', () => {
  it('starts empty', () => {
    const rotation = new FileRotation(unlimited)
    expect(rotation.isEmpty).toBe(true)
    expect(rotation.bytes).toBe(0)
    expect(rotation.records).toBe(0)
    expect(rotation.takeAll()).toEqual([])
  })

  it('asks for a flush exactly when a file reaches maxRecords', () => {
    const rotation = new FileRotation(rules({ maxRecords: 3 }))
    expect(addAndCheck(rotation, 'p', rec(0), 0)).toBe(false)
    expect(addAndCheck(rotation, 'p', rec(1), 0)).toBe(false)
    expect(addAndCheck(rotation, 'p', rec(2), 0)).toBe(true)
    expect(rotation.records).toBe(3)
  })

  it('with maxRecords 1 asks for a flush on every record', () => {
    const rotation = new FileRotation(rules({ maxRecords: 1 }))
    expect(addAndCheck(rotation, 'p', rec(0), 0)).toBe(true)
  })

  it('counts each record as its body plus one newline byte', () => {
    const rotation = new FileRotation(rules({ maxBytes: 10 }))
    expect(addAndCheck(rotation, 'p', rec(0, 'abcd'), 0)).toBe(false) // 5
    expect(rotation.bytes).toBe(5)
    expect(addAndCheck(rotation, 'p', rec(1, 'efgh'), 0)).toBe(true) // 10: reaches the bound
    expect(rotation.bytes).toBe(10)
    const [file] = rotation.takeAll()
    expect(file?.bytes).toBe(10)
  })

  it('asks for a flush on the byte bound only once it is reached', () => {
    const below = new FileRotation(rules({ maxBytes: 10 }))
    expect(addAndCheck(below, 'p', rec(0, '12345678'), 0)).toBe(false) // 9
    const exact = new FileRotation(rules({ maxBytes: 10 }))
    expect(addAndCheck(exact, 'p', rec(0, '123456789'), 0)).toBe(true) // 10
    const empty = new FileRotation(rules({ maxBytes: 2 }))
    expect(addAndCheck(empty, 'p', rec(0, ''), 0)).toBe(false) // 1
    expect(addAndCheck(empty, 'p', rec(1, ''), 0)).toBe(true) // 2
  })

  it('asks for a flush when the span of record times reaches maxSpanMs', () => {
    const rotation = new FileRotation(rules({ maxSpanMs: 1000 }))
    expect(addAndCheck(rotation, 'p', rec(0, 'x', 5000), 0)).toBe(false)
    expect(addAndCheck(rotation, 'p', rec(1, 'x', 5999), 0)).toBe(false) // span 999
    expect(addAndCheck(rotation, 'p', rec(2, 'x', 5500), 0)).toBe(false) // inside the span
    expect(addAndCheck(rotation, 'p', rec(3, 'x', 6000), 0)).toBe(true) // span 1000
    const [file] = rotation.takeAll()
    expect(file?.minTimeMs).toBe(5000)
    expect(file?.maxTimeMs).toBe(6000)
  })

  it('measures the span in both directions (a record older than the first)', () => {
    const rotation = new FileRotation(rules({ maxSpanMs: 1000 }))
    expect(addAndCheck(rotation, 'p', rec(0, 'x', 5000), 0)).toBe(false)
    expect(addAndCheck(rotation, 'p', rec(1, 'x', 4001), 0)).toBe(false) // span 999
    expect(addAndCheck(rotation, 'p', rec(2, 'x', 4000), 0)).toBe(true) // span 1000
    const [file] = rotation.takeAll()
    expect(file?.minTimeMs).toBe(4000)
    expect(file?.maxTimeMs).toBe(5000)
  })

  it('does not use the wall clock for the span', () => {
    const rotation = new FileRotation(rules({ maxSpanMs: 1000 }))
    expect(addAndCheck(rotation, 'p', rec(0, 'x', 5000), 0)).toBe(false)
    expect(addAndCheck(rotation, 'p', rec(1, 'x', 5000), 1_000_000)).toBe(false)
  })

  it('keeps one file per path, each with its first record offset as startOffset', () => {
    const rotation = new FileRotation(unlimited)
    rotation.append('dt=2024-03-10/hr=13', rec(10, 'a'), 0)
    rotation.append('dt=2024-03-10/hr=14', rec(11, 'bb'), 0)
    rotation.append('dt=2024-03-10/hr=13', rec(12, 'ccc'), 0)
    rotation.append('dt=2024-03-10/hr=14', rec(13, 'dddd'), 0)
    rotation.append('dt=2024-03-10/hr=15', rec(14, 'e'), 0)
    expect(rotation.records).toBe(5)
    expect(rotation.bytes).toBe(2 + 3 + 4 + 5 + 2)
    const files = rotation.takeAll()
    expect(files.map((f) => [f.path, f.startOffset, f.bytes, f.records.map((r) => r.offset)])).toEqual([
      ['dt=2024-03-10/hr=13', 10, 6, [10, 12]],
      ['dt=2024-03-10/hr=14', 11, 8, [11, 13]],
      ['dt=2024-03-10/hr=15', 14, 2, [14]],
    ])
  })

  it('keeps the records themselves in append order', () => {
    const rotation = new FileRotation(unlimited)
    const records = [rec(3, 'one'), rec(4, 'two'), rec(5, 'three')]
    for (const r of records) rotation.append('p', r, 0)
    const [file] = rotation.takeAll()
    expect(file?.records).toEqual(records)
    expect(file?.records[0]).toBe(records[0])
  })

  it('applies the bounds per file, not to the partition total', () => {
    const rotation = new FileRotation(rules({ maxRecords: 2, maxBytes: 6 }))
    expect(addAndCheck(rotation, 'a', rec(0, 'xx'), 0)).toBe(false) // a: 1 record, 3 bytes
    expect(addAndCheck(rotation, 'b', rec(1, 'xx'), 0)).toBe(false) // b: 1 record, 3 bytes; total 2, 6
    expect(rotation.records).toBe(2)
    expect(rotation.bytes).toBe(6)
    expect(addAndCheck(rotation, 'a', rec(2, 'x'), 0)).toBe(true) // a: 2 records
  })

  it('applies the span per file', () => {
    const rotation = new FileRotation(rules({ maxSpanMs: 1000 }))
    expect(addAndCheck(rotation, 'a', rec(0, 'x', 0), 0)).toBe(false)
    expect(addAndCheck(rotation, 'b', rec(1, 'x', 5000), 0)).toBe(false)
    expect(addAndCheck(rotation, 'a', rec(2, 'x', 999), 0)).toBe(false)
    expect(addAndCheck(rotation, 'b', rec(3, 'x', 5999), 0)).toBe(false)
    expect(addAndCheck(rotation, 'b', rec(4, 'x', 6000), 0)).toBe(true)
  })

  it('takeAll empties everything and resets the counters; new files start at the next offset', () => {
    const rotation = new FileRotation(rules({ maxRecords: 2 }))
    rotation.append('a', rec(0, 'xyz'), 0)
    rotation.append('b', rec(1, 'xyz'), 0)
    expect(rotation.isEmpty).toBe(false)
    expect(rotation.takeAll()).toHaveLength(2)
    expect(rotation.isEmpty).toBe(true)
    expect(rotation.bytes).toBe(0)
    expect(rotation.records).toBe(0)
    expect(rotation.takeAll()).toEqual([])

    // The per-file counts start again too: one record in 'a' is below maxRecords 2.
    expect(addAndCheck(rotation, 'a', rec(7, 'q'), 50)).toBe(false)
    expect(rotation.records).toBe(1)
    expect(rotation.bytes).toBe(2)
    const [file] = rotation.takeAll()
    expect(file?.startOffset).toBe(7)
    expect(file?.openedAt).toBe(50)
    expect(file?.records.map((r) => r.offset)).toEqual([7])
  })

  it('does not hand back files that later appends can change', () => {
    const rotation = new FileRotation(unlimited)
    rotation.append('a', rec(0), 0)
    const [taken] = rotation.takeAll()
    rotation.append('a', rec(1), 0)
    expect(taken?.records.map((r) => r.offset)).toEqual([0])
  })

  describe('tooOld', () => {
    it('is always false with maxAgeMs null', () => {
      const rotation = new FileRotation(rules({ maxAgeMs: null }))
      expect(rotation.tooOld(0)).toBe(false)
      rotation.append('a', rec(0), 0)
      expect(rotation.tooOld(0)).toBe(false)
      expect(rotation.tooOld(Number.MAX_SAFE_INTEGER)).toBe(false)
    })

    it('is false while empty', () => {
      const rotation = new FileRotation(rules({ maxAgeMs: 1000 }))
      expect(rotation.tooOld(Number.MAX_SAFE_INTEGER)).toBe(false)
    })

    it('compares the given now with when the file was opened', () => {
      const rotation = new FileRotation(rules({ maxAgeMs: 1000 }))
      rotation.append('a', rec(0), 100)
      expect(rotation.tooOld(100)).toBe(false)
      expect(rotation.tooOld(1099)).toBe(false)
      expect(rotation.tooOld(1100)).toBe(true)
      expect(rotation.tooOld(5000)).toBe(true)
    })

    it('counts from the first record of a file, not the latest', () => {
      const rotation = new FileRotation(rules({ maxAgeMs: 1000 }))
      rotation.append('a', rec(0), 100)
      rotation.append('a', rec(1), 1000)
      expect(rotation.tooOld(1100)).toBe(true)
      const [file] = rotation.takeAll()
      expect(file?.openedAt).toBe(100)
    })

    it('is true when any file is too old', () => {
      const rotation = new FileRotation(rules({ maxAgeMs: 1000 }))
      rotation.append('a', rec(0), 600)
      rotation.append('b', rec(1), 100)
      expect(rotation.tooOld(1099)).toBe(false)
      expect(rotation.tooOld(1100)).toBe(true)
    })

    it('is false again after takeAll', () => {
      const rotation = new FileRotation(rules({ maxAgeMs: 1000 }))
      rotation.append('a', rec(0), 0)
      expect(rotation.tooOld(2000)).toBe(true)
      rotation.takeAll()
      expect(rotation.tooOld(2000)).toBe(false)
    })

    it('does not affect what append returns', () => {
      const rotation = new FileRotation(rules({ maxAgeMs: 1 }))
      expect(addAndCheck(rotation, 'a', rec(0), 0)).toBe(false)
      expect(addAndCheck(rotation, 'a', rec(1), 1_000_000)).toBe(false)
    })
  })

  it('with the default topic config rules, flushes at 100 000 records, never for age, after a minute idle', () => {
    const defaults = decodeConfigFields({}).rotation
    expect(defaults).toEqual({
      maxBytes: 64 * 1024 * 1024,
      maxRecords: 100_000,
      maxSpanMs: 3_600_000,
      maxAgeMs: null,
      idleMs: 60_000,
    })
    const rotation = new FileRotation(defaults)
    const body = Buffer.from('{"n":1}')
    let flushes = 0
    for (let offset = 0; offset < 100_000; offset++) {
      if (addAndCheck(rotation, 'p', { offset, body, timeMs: 0, sortKey: undefined }, 0)) flushes++
    }
    expect(flushes).toBe(1)
    expect(rotation.records).toBe(100_000)
    expect(rotation.bytes).toBe(800_000)
    expect(rotation.tooOld(Number.MAX_SAFE_INTEGER)).toBe(false)
  })

  describe('idle', () => {
    const body = Buffer.from('{}')
    it('is false with nothing open, or with idleMs null', () => {
      expect(new FileRotation(rules({ idleMs: 1000 })).idle(Number.MAX_SAFE_INTEGER)).toBe(false)
      const off = new FileRotation(rules({ idleMs: null }))
      off.append('p', { offset: 0, body, timeMs: 0, sortKey: undefined }, 0)
      expect(off.idle(Number.MAX_SAFE_INTEGER)).toBe(false)
    })

    it('counts from the latest record of any file of the partition', () => {
      const rotation = new FileRotation(rules({ idleMs: 1000 }))
      rotation.append('a', { offset: 0, body, timeMs: 0, sortKey: undefined }, 0)
      rotation.append('b', { offset: 1, body, timeMs: 0, sortKey: undefined }, 800)
      expect(rotation.idle(1000)).toBe(false)
      expect(rotation.idle(1799)).toBe(false)
      expect(rotation.idle(1800)).toBe(true)
      rotation.takeAll()
      expect(rotation.idle(5000)).toBe(false)
    })
  })

  it('names the rule that fired', () => {
    const body = Buffer.from('x'.repeat(9))
    const byCount = new FileRotation(rules({ maxRecords: 2 }))
    byCount.append('p', { offset: 0, body, timeMs: 0, sortKey: undefined }, 0)
    expect(
      byCount.ruleFired(byCount.append('p', { offset: 1, body, timeMs: 0, sortKey: undefined }, 0)),
    ).toBe('maxRecords')
    const byBytes = new FileRotation(rules({ maxBytes: 10 }))
    expect(
      byBytes.ruleFired(byBytes.append('p', { offset: 0, body, timeMs: 0, sortKey: undefined }, 0)),
    ).toBe('maxBytes')
  })
})
