// The JSON check workers stand in for JSON.parse on the event loop: for every kind of value the
// record prepared with a worker's verdict must be exactly the one prepared without.
import { afterEach, describe, expect, it } from 'vitest'
import type { ConsumedRecord } from '../../../src/kafka/index.js'
import { JsonChecks } from '../../../src/processes/archiver/jsonChecks.js'
import { RecordPreparation } from '../../../src/processes/archiver/recordPreparation.js'
import { topicConfig } from './configs.js'

const pools: JsonChecks[] = []
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()))
})

const config = (fields: Record<string, unknown>) => topicConfig('t', fields)

const values: Array<Buffer | null> = [
  Buffer.from('{"id":1,"text":"plain"}'),
  Buffer.from('not json'),
  Buffer.from('{"id":2,\n "text":"over two lines"}'),
  null,
  Buffer.alloc(0),
  Buffer.from('{"text":"ünïcödé ✓"}'),
  Buffer.from('{"cut":'),
  Buffer.from([0xff, 0xfe, 0x7b]),
  Buffer.from('[1,2,3]'),
  Buffer.from('"a string"'),
]
const records: ConsumedRecord[] = values.map((value, i) => ({
  offset: 100 + i,
  key: null,
  value,
  headers: {},
  timestamp: Date.UTC(2026, 11, 1, 10) + i,
}))

describe('JSON check workers', () => {
  it('give verdicts with which a record is prepared exactly as by JSON.parse on the event loop', async () => {
    const checks = new JsonChecks(1)
    pools.push(checks)
    const verdicts = await checks.check(values)
    for (const copyBodies of [true, false]) {
      const preparation = new RecordPreparation(config({ compression: 'none' }), copyBodies)
      expect(preparation.onlyChecksJson).toBe(true)
      for (const [i, record] of records.entries()) {
        const alone = preparation.prepare(record)
        const checked = preparation.prepare(record, { verdict: verdicts.get(i) })
        expect(checked, `value ${i}: ${String(values[i])}`).toEqual(alone)
      }
    }
    expect(verdicts.get(1)?.bad).toMatch(/^not JSON: /)
    expect(verdicts.get(2)?.line).toBe('{"id":2,"text":"over two lines"}')
    expect(verdicts.has(0)).toBe(false)
    expect(checks.threads).toBe(1)
  })

  it('give the same verdicts whether the values lie in one buffer (copied as one block) or apart', async () => {
    const checks = new JsonChecks(1)
    pools.push(checks)
    // Values in one buffer with record framing between them, as a fetch response holds them.
    const framed = Buffer.concat(values.flatMap((v) => [Buffer.from('#frame#'), v ?? Buffer.alloc(0)]))
    let at = 0
    const inOneBuffer = values.map((v) => {
      at += '#frame#'.length
      const view = v === null ? null : framed.subarray(at, at + v.length)
      at += v?.length ?? 0
      return view
    })
    const apart = values.map((v) => (v === null ? null : Uint8Array.from(v)))
    const fromBlock = await checks.check(inOneBuffer)
    expect(fromBlock).toEqual(await checks.check(apart))
    expect(fromBlock).toEqual(await checks.check(values))
    expect([...fromBlock.keys()].sort()).toEqual([1, 2, 4, 6, 7])
  })

  it('are not used where a field is read: the time field, the path or the sort key need the parsed value', () => {
    expect(new RecordPreparation(config({ time: { field: '$.created_at' } })).onlyChecksJson).toBe(false)
    expect(new RecordPreparation(config({ pathTemplate: 'lang={$.lang}' })).onlyChecksJson).toBe(false)
    expect(new RecordPreparation(config({ sortBy: '$.id' })).onlyChecksJson).toBe(false)
    expect(new RecordPreparation(config({ format: 'parquet' })).onlyChecksJson).toBe(false)
  })

  it('refuse work once closed, and end their threads', async () => {
    const checks = new JsonChecks(2)
    await Promise.all([checks.check(values), checks.check(values), checks.check(values)])
    expect(checks.threads).toBe(2)
    await checks.close()
    expect(checks.threads).toBe(0)
    await expect(checks.check(values)).rejects.toThrow(/JSON check workers are closed/)
  })
})
