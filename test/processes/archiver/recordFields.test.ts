import { afterEach, describe, expect, it } from 'vitest'
import { parseTime, readJsonPath } from '../../../src/processes/archiver/recordFields.js'

describe('readJsonPath', () => {
  const record = {
    client: 'acme',
    meta: { region: 'eu', nested: { deep: [10, { leaf: 'x' }] } },
    tags: ['a', 'b', 'c'],
    matrix: [
      [1, 2],
      [3, 4],
    ],
    zero: 0,
    empty: '',
    nothing: null,
    flag: false,
  }

  it('reads top-level and nested keys', () => {
    expect(readJsonPath(record, '$.client')).toBe('acme')
    expect(readJsonPath(record, '$.meta.region')).toBe('eu')
    expect(readJsonPath(record, '$.meta.nested')).toEqual({ deep: [10, { leaf: 'x' }] })
  })

  it('reads array indexes, also mixed with keys and nested arrays', () => {
    expect(readJsonPath(record, '$.tags[0]')).toBe('a')
    expect(readJsonPath(record, '$.tags[2]')).toBe('c')
    expect(readJsonPath(record, '$.meta.nested.deep[1].leaf')).toBe('x')
    expect(readJsonPath(record, '$.matrix[1][0]')).toBe(3)
    expect(readJsonPath([{ a: 'top' }], '$[0].a')).toBe('top')
  })

  it('returns falsy values as they are (not as missing)', () => {
    expect(readJsonPath(record, '$.zero')).toBe(0)
    expect(readJsonPath(record, '$.empty')).toBe('')
    expect(readJsonPath(record, '$.nothing')).toBeNull()
    expect(readJsonPath(record, '$.flag')).toBe(false)
  })

  it('returns the value itself for the bare root path', () => {
    expect(readJsonPath(record, '$')).toBe(record)
    expect(readJsonPath('text', '$')).toBe('text')
  })

  it('returns undefined when a step is missing', () => {
    expect(readJsonPath(record, '$.absent')).toBeUndefined()
    expect(readJsonPath(record, '$.absent.deeper')).toBeUndefined()
    expect(readJsonPath(record, '$.meta.absent')).toBeUndefined()
    expect(readJsonPath(record, '$.tags[3]')).toBeUndefined()
    expect(readJsonPath(record, '$.meta.nested.deep[5].leaf')).toBeUndefined()
  })

  it('returns undefined when a step meets a non-object', () => {
    expect(readJsonPath(record, '$.client.length')).toBeUndefined()
    expect(readJsonPath(record, '$.client[0]')).toBeUndefined()
    expect(readJsonPath(record, '$.zero.x')).toBeUndefined()
    expect(readJsonPath(record, '$.flag.x')).toBeUndefined()
    expect(readJsonPath(record, '$.nothing.x')).toBeUndefined()
    expect(readJsonPath(record, '$.tags[0].x')).toBeUndefined()
    expect(readJsonPath(undefined, '$.a')).toBeUndefined()
    expect(readJsonPath(null, '$.a')).toBeUndefined()
    expect(readJsonPath(42, '$[0]')).toBeUndefined()
  })

  it('reads own fields whose names look like Object.prototype members', () => {
    const parsed: unknown = JSON.parse('{"constructor":"c1","toString":"t1","__proto__":"p1"}')
    expect(readJsonPath(parsed, '$.constructor')).toBe('c1')
    expect(readJsonPath(parsed, '$.toString')).toBe('t1')
    expect(readJsonPath(parsed, '$.__proto__')).toBe('p1')
  })

  // Paths like these pass the config's JsonPath check (`$.a.b` with [A-Za-z_][A-Za-z0-9_-]* steps).
  it.each(['$.constructor', '$.toString', '$.valueOf', '$.hasOwnProperty', '$.__proto__'])(
    'treats %s as missing when the record has no such own field',
    (path) => {
      expect(readJsonPath(JSON.parse('{"client":"acme"}'), path)).toBeUndefined()
    },
  )
})

describe('parseTime', () => {
  const s = 1_700_000_000 // 2023-11-14T22:13:20Z
  const ms = s * 1000

  it('reads epoch seconds, milliseconds and nanoseconds given as numbers', () => {
    expect(parseTime(s, 'epoch-s')).toEqual({ ok: true, ms })
    expect(parseTime(ms + 123, 'epoch-ms')).toEqual({ ok: true, ms: ms + 123 })
    // Nanoseconds beyond 2^53 are not exact as doubles; ns / 1e6 still floors to ...123 ms.
    expect(parseTime(1_700_000_000_123_456_800, 'epoch-ns')).toEqual({ ok: true, ms: ms + 123 })
  })

  it('reads the same values given as numeric strings', () => {
    expect(parseTime('1700000000', 'epoch-s')).toEqual({ ok: true, ms })
    expect(parseTime('1700000000123', 'epoch-ms')).toEqual({ ok: true, ms: ms + 123 })
    expect(parseTime('1700000000123456789', 'epoch-ns')).toEqual({ ok: true, ms: ms + 123 })
  })

  it('floors fractions to whole milliseconds', () => {
    expect(parseTime(1_700_000_000.5, 'epoch-s')).toEqual({ ok: true, ms: ms + 500 })
    expect(parseTime('1700000000.25', 'epoch-s')).toEqual({ ok: true, ms: ms + 250 })
    expect(parseTime(ms + 0.9, 'epoch-ms')).toEqual({ ok: true, ms })
    expect(parseTime('1700000000999.999', 'epoch-ms')).toEqual({ ok: true, ms: ms + 999 })
    expect(parseTime(1_700_000_000_999_999, 'epoch-ns')).toEqual({ ok: true, ms: 1_700_000_000 })
  })

  it('accepts the epoch itself and the upper bound', () => {
    expect(parseTime(0, 'epoch-ms')).toEqual({ ok: true, ms: 0 })
    expect(parseTime('0', 'epoch-s')).toEqual({ ok: true, ms: 0 })
    expect(parseTime(Date.UTC(9999, 11, 31), 'epoch-ms')).toEqual({ ok: true, ms: Date.UTC(9999, 11, 31) })
  })

  it('reads ISO-8601 strings with Z and with offsets', () => {
    const noon = Date.UTC(2024, 2, 10, 12, 0, 0)
    expect(parseTime('2024-03-10T12:00:00Z', 'iso')).toEqual({ ok: true, ms: noon })
    expect(parseTime('2024-03-10T12:00:00.000Z', 'iso')).toEqual({ ok: true, ms: noon })
    expect(parseTime('2024-03-10T17:30:00+05:30', 'iso')).toEqual({ ok: true, ms: noon })
    expect(parseTime('2024-03-10T07:00:00-05:00', 'iso')).toEqual({ ok: true, ms: noon })
    expect(parseTime('2024-03-10T12:00:00.250+00:00', 'iso')).toEqual({ ok: true, ms: noon + 250 })
    // A date-only ISO form is UTC midnight.
    expect(parseTime('2024-03-10', 'iso')).toEqual({ ok: true, ms: Date.UTC(2024, 2, 10) })
  })

  it.each([
    ['epoch-s', undefined],
    ['epoch-ms', null],
    ['epoch-ns', undefined],
    ['iso', null],
  ] as const)('reports %s value %s as missing', (format, value) => {
    expect(parseTime(value, format)).toEqual({ ok: false, reason: 'missing' })
  })

  it.each([
    ['abc', 'epoch-ms', 'expected a number (epoch-ms), got "abc"'],
    ['', 'epoch-ms', 'expected a number (epoch-ms), got ""'],
    [' 123', 'epoch-s', 'expected a number (epoch-s), got " 123"'],
    ['1.7e12', 'epoch-ms', 'expected a number (epoch-ms), got "1.7e12"'],
    ['0x10', 'epoch-ns', 'expected a number (epoch-ns), got "0x10"'],
    ['12abc', 'epoch-s', 'expected a number (epoch-s), got "12abc"'],
    [true, 'epoch-s', 'expected a number (epoch-s), got true'],
    [{ t: 1 }, 'epoch-ms', 'expected a number (epoch-ms), got {"t":1}'],
    [[1], 'epoch-ms', 'expected a number (epoch-ms), got [1]'],
    [Number.NaN, 'epoch-ms', 'expected a number (epoch-ms), got null'],
  ] as const)('rejects non-numeric %j for %s', (value, format, reason) => {
    expect(parseTime(value, format)).toEqual({ ok: false, reason })
  })

  it.each([
    [-1, 'epoch-ms', 'not a valid time: -1'],
    ['-1', 'epoch-s', 'not a valid time: "-1"'],
    [Date.UTC(10000, 0, 1), 'epoch-ms', `not a valid time: ${Date.UTC(10000, 0, 1)}`],
    [1e300, 'epoch-s', 'not a valid time: 1e+300'],
    [Number.POSITIVE_INFINITY, 'epoch-ms', 'not a valid time: null'],
    [Number.MAX_VALUE, 'epoch-s', `not a valid time: ${Number.MAX_VALUE}`],
  ] as const)('rejects out-of-range %s for %s', (value, format, reason) => {
    expect(parseTime(value, format)).toEqual({ ok: false, reason })
  })

  it('interprets the unit: the same number lands at different times per format', () => {
    expect(parseTime(1_700_000_000_000, 'epoch-ms')).toEqual({ ok: true, ms })
    // As seconds it is far past year 9999; as nanoseconds it is 1970-01-01T00:28:20Z.
    expect(parseTime(1_700_000_000_000, 'epoch-s').ok).toBe(false)
    expect(parseTime(1_700_000_000_000, 'epoch-ns')).toEqual({ ok: true, ms: 1_700_000 })
  })

  it('rejects a non-string for iso', () => {
    expect(parseTime(ms, 'iso')).toEqual({ ok: false, reason: 'expected an ISO-8601 string, got number' })
    expect(parseTime({}, 'iso')).toEqual({ ok: false, reason: 'expected an ISO-8601 string, got object' })
    expect(parseTime(true, 'iso')).toEqual({ ok: false, reason: 'expected an ISO-8601 string, got boolean' })
  })

  it('rejects unparseable or out-of-range iso strings', () => {
    expect(parseTime('not a date', 'iso')).toEqual({
      ok: false,
      reason: 'not an ISO-8601 time: "not a date"',
    })
    expect(parseTime('2024-13-01T00:00:00Z', 'iso')).toEqual({
      ok: false,
      reason: 'not an ISO-8601 time: "2024-13-01T00:00:00Z"',
    })
    expect(parseTime('1969-12-31T23:59:59Z', 'iso')).toEqual({
      ok: false,
      reason: 'not a valid time: "1969-12-31T23:59:59Z"',
    })
    expect(parseTime('', 'iso')).toEqual({ ok: false, reason: 'not an ISO-8601 time: ""' })
  })

  // Date.parse falls back to V8's legacy parser: these are not ISO-8601 but are accepted
  // ('1' becomes 2001-01-01 local time, 'March 7, 2024' local midnight, Feb 30 rolls over to Mar 1).
  it.each(['1', 'March 7, 2024', '2024-02-30T00:00:00Z'])(
    'rejects the non-ISO-8601 string %j for iso',
    (value) => {
      expect(parseTime(value, 'iso').ok).toBe(false)
    },
  )

  describe('an ISO string without an offset', () => {
    const saved = process.env.TZ
    afterEach(() => {
      if (saved === undefined) delete process.env.TZ
      else process.env.TZ = saved
    })

    // Date.parse reads offset-less date-times in the process's local zone, so two nodes (or one
    // node before and after a restart with another TZ) would file the same record differently.
    it('is read the same whatever the process time zone', () => {
      process.env.TZ = 'UTC'
      const inUtc = parseTime('2024-03-10T12:00:00', 'iso')
      process.env.TZ = 'Asia/Kolkata'
      const inKolkata = parseTime('2024-03-10T12:00:00', 'iso')
      expect(inKolkata).toEqual(inUtc)
    })
  })
})
