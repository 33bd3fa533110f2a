import { describe, expect, it } from 'vitest'
import {
  PathRenderer,
  pathSegment,
  renderPath,
  templateReadsFields,
  timeParts,
} from '../../../src/processes/archiver/pathTemplate.js'
import { decodeConfigFields } from '../../../src/processes/state/topicConfig.js'

describe('timeParts', () => {
  it('gives zero-padded UTC fields at minute granularity', () => {
    expect(timeParts(Date.UTC(2024, 1, 29, 23, 59, 59, 999), 'UTC', 'minute')).toEqual({
      yyyy: '2024',
      MM: '02',
      dd: '29',
      HH: '23',
      mm: '59',
    })
    expect(timeParts(Date.UTC(2024, 0, 5, 7, 3), 'UTC', 'minute')).toEqual({
      yyyy: '2024',
      MM: '01',
      dd: '05',
      HH: '07',
      mm: '03',
    })
  })

  it('writes midnight as 00, never 24', () => {
    expect(timeParts(Date.UTC(2024, 0, 1), 'UTC', 'minute')).toEqual({
      yyyy: '2024',
      MM: '01',
      dd: '01',
      HH: '00',
      mm: '00',
    })
    expect(timeParts(0, 'UTC', 'hour')).toEqual({ yyyy: '1970', MM: '01', dd: '01', HH: '00', mm: '00' })
  })

  it('cuts to the granularity: hour zeroes the minutes, day zeroes hours and minutes', () => {
    const ms = Date.UTC(2024, 2, 10, 14, 37, 12)
    expect(timeParts(ms, 'UTC', 'minute')).toEqual({ yyyy: '2024', MM: '03', dd: '10', HH: '14', mm: '37' })
    expect(timeParts(ms, 'UTC', 'hour')).toEqual({ yyyy: '2024', MM: '03', dd: '10', HH: '14', mm: '00' })
    expect(timeParts(ms, 'UTC', 'day')).toEqual({ yyyy: '2024', MM: '03', dd: '10', HH: '00', mm: '00' })
  })

  describe('Asia/Kolkata (+05:30, no DST)', () => {
    it('shifts by five and a half hours', () => {
      // 12:00Z = 17:30 IST
      expect(timeParts(Date.UTC(2024, 2, 10, 12, 0), 'Asia/Kolkata', 'minute')).toEqual({
        yyyy: '2024',
        MM: '03',
        dd: '10',
        HH: '17',
        mm: '30',
      })
      // Hour granularity cuts the half hour away.
      expect(timeParts(Date.UTC(2024, 2, 10, 12, 0), 'Asia/Kolkata', 'hour')).toEqual({
        yyyy: '2024',
        MM: '03',
        dd: '10',
        HH: '17',
        mm: '00',
      })
    })

    it('changes day at 18:30Z', () => {
      expect(timeParts(Date.UTC(2024, 0, 1, 18, 29), 'Asia/Kolkata', 'minute')).toEqual({
        yyyy: '2024',
        MM: '01',
        dd: '01',
        HH: '23',
        mm: '59',
      })
      expect(timeParts(Date.UTC(2024, 0, 1, 18, 30), 'Asia/Kolkata', 'minute')).toEqual({
        yyyy: '2024',
        MM: '01',
        dd: '02',
        HH: '00',
        mm: '00',
      })
    })

    it('changes year before UTC does', () => {
      // 2023-12-31T18:45Z = 2024-01-01 00:15 IST
      expect(timeParts(Date.UTC(2023, 11, 31, 18, 45), 'Asia/Kolkata', 'day')).toEqual({
        yyyy: '2024',
        MM: '01',
        dd: '01',
        HH: '00',
        mm: '00',
      })
      expect(timeParts(Date.UTC(2023, 11, 31, 18, 45), 'UTC', 'day')).toEqual({
        yyyy: '2023',
        MM: '12',
        dd: '31',
        HH: '00',
        mm: '00',
      })
    })
  })

  describe('America/New_York (DST)', () => {
    it('is UTC-5 in winter and UTC-4 in summer', () => {
      expect(timeParts(Date.UTC(2024, 0, 15, 12), 'America/New_York', 'hour').HH).toBe('07')
      expect(timeParts(Date.UTC(2024, 6, 15, 12), 'America/New_York', 'hour').HH).toBe('08')
    })

    it('is on the previous day in the evening', () => {
      // 2024-01-01T03:00Z = 2023-12-31 22:00 EST
      expect(timeParts(Date.UTC(2024, 0, 1, 3), 'America/New_York', 'minute')).toEqual({
        yyyy: '2023',
        MM: '12',
        dd: '31',
        HH: '22',
        mm: '00',
      })
    })

    it('skips 02:xx when clocks spring forward (2024-03-10)', () => {
      // 06:59Z = 01:59 EST; one minute later, 07:00Z = 03:00 EDT.
      expect(timeParts(Date.UTC(2024, 2, 10, 6, 59), 'America/New_York', 'minute')).toEqual({
        yyyy: '2024',
        MM: '03',
        dd: '10',
        HH: '01',
        mm: '59',
      })
      expect(timeParts(Date.UTC(2024, 2, 10, 7, 0), 'America/New_York', 'minute')).toEqual({
        yyyy: '2024',
        MM: '03',
        dd: '10',
        HH: '03',
        mm: '00',
      })
    })

    it('repeats 01:xx when clocks fall back (2024-11-03)', () => {
      // 04:59Z = 00:59 EDT; 05:30Z = 01:30 EDT; 06:30Z = 01:30 EST; 07:00Z = 02:00 EST.
      const at = (h: number, m: number) =>
        timeParts(Date.UTC(2024, 10, 3, h, m), 'America/New_York', 'minute')
      expect(at(4, 59)).toEqual({ yyyy: '2024', MM: '11', dd: '03', HH: '00', mm: '59' })
      expect(at(5, 30)).toEqual({ yyyy: '2024', MM: '11', dd: '03', HH: '01', mm: '30' })
      expect(at(6, 30)).toEqual({ yyyy: '2024', MM: '11', dd: '03', HH: '01', mm: '30' })
      expect(at(7, 0)).toEqual({ yyyy: '2024', MM: '11', dd: '03', HH: '02', mm: '00' })
      // Two real hours land in the same hour bucket.
      const hour = (h: number) => timeParts(Date.UTC(2024, 10, 3, h, 15), 'America/New_York', 'hour')
      expect(hour(5)).toEqual(hour(6))
      expect(hour(5).HH).toBe('01')
    })
  })
})

describe('pathSegment', () => {
  it.each([
    [undefined, 'unknown'],
    [null, 'unknown'],
    ['', 'unknown'],
    ['.', 'unknown'],
    ['..', 'unknown'],
    ['...', 'unknown'],
    ['acme', 'acme'],
    ['A-z_0.9=x', 'A-z_0.9=x'],
    ['a/b', 'a_b'],
    ['a\\b', 'a_b'],
    ['../../etc/passwd', '.._.._etc_passwd'],
    ['big client', 'big_client'],
    ['tab\there', 'tab_here'],
    ['line\nbreak', 'line_break'],
    ['café', 'caf_'],
    ['a?b#c%d*e:f', 'a_b_c_d_e_f'],
    [42, '42'],
    [-1.5, '-1.5'],
    [0, '0'],
    [true, 'true'],
    [false, 'false'],
    [{ a: 1 }, '__a__1_'],
    [['x', 'y'], '__x___y__'],
  ] as const)('maps %j to %j', (value, expected) => {
    expect(pathSegment(value)).toBe(expected)
  })

  it('bounds the length to 100 characters', () => {
    expect(pathSegment('a'.repeat(150))).toBe('a'.repeat(100))
    expect(pathSegment('/'.repeat(150))).toBe('_'.repeat(100))
  })
})

describe('renderPath', () => {
  const spec = 'dt={date}/hr={hour}/client={$.client}/product={$.product}'
  const hourly = timeParts(Date.UTC(2024, 2, 10, 14, 37), 'UTC', 'hour')

  it('renders the example from the spec', () => {
    expect(renderPath(spec, hourly, { client: 'acme', product: 'widget' })).toBe(
      'dt=2024-03-10/hr=14/client=acme/product=widget',
    )
  })

  it('renders times in the configured zone', () => {
    const kolkata = timeParts(Date.UTC(2024, 2, 10, 20, 0), 'Asia/Kolkata', 'hour') // 01:30 IST on 03-11
    expect(renderPath(spec, kolkata, { client: 'acme', product: 'widget' })).toBe(
      'dt=2024-03-11/hr=01/client=acme/product=widget',
    )
  })

  it('writes unknown for missing, null or empty fields', () => {
    expect(renderPath(spec, hourly, { client: 'acme' })).toBe(
      'dt=2024-03-10/hr=14/client=acme/product=unknown',
    )
    expect(renderPath(spec, hourly, { client: null, product: '' })).toBe(
      'dt=2024-03-10/hr=14/client=unknown/product=unknown',
    )
    expect(renderPath(spec, hourly, {})).toBe('dt=2024-03-10/hr=14/client=unknown/product=unknown')
    // A record that is not an object (or was not parsed at all).
    expect(renderPath(spec, hourly, 'text')).toBe('dt=2024-03-10/hr=14/client=unknown/product=unknown')
    expect(renderPath(spec, hourly, undefined)).toBe('dt=2024-03-10/hr=14/client=unknown/product=unknown')
  })

  it('sanitises unsafe field values so they stay one segment', () => {
    expect(renderPath(spec, hourly, { client: '../../etc', product: 'a/b c' })).toBe(
      'dt=2024-03-10/hr=14/client=.._.._etc/product=a_b_c',
    )
    expect(renderPath(spec, hourly, { client: '..', product: '.' })).toBe(
      'dt=2024-03-10/hr=14/client=unknown/product=unknown',
    )
    expect(renderPath(spec, hourly, { client: 'x\\y', product: ' ' })).toBe(
      'dt=2024-03-10/hr=14/client=x_y/product=_',
    )
    const tricky = ['/', '//', '/..', '../', 'a/../b', '\u0000', '..\\..', 'ä/ö']
    for (const value of tricky) {
      const path = renderPath('{$.v}', hourly, { v: value })
      expect(path).not.toContain('/')
      expect(path).not.toContain('\\')
      expect(['', '.', '..']).not.toContain(path)
    }
  })

  it('renders non-string field values', () => {
    expect(renderPath(spec, hourly, { client: 7, product: true })).toBe(
      'dt=2024-03-10/hr=14/client=7/product=true',
    )
  })

  it('reads nested fields and array elements', () => {
    expect(
      renderPath('r={$.meta.region}/t={$.tags[1]}', hourly, { meta: { region: 'eu' }, tags: ['a', 'b'] }),
    ).toBe('r=eu/t=b')
  })

  it('renders the separate time tokens', () => {
    const minutely = timeParts(Date.UTC(2024, 2, 10, 14, 37), 'UTC', 'minute')
    expect(renderPath('{yyyy}/{MM}/{dd}/{HH}/{mm}', minutely, {})).toBe('2024/03/10/14/37')
    expect(renderPath('{date}T{hour}:{minute}', minutely, {})).toBe('2024-03-10T14:37')
    expect(renderPath('{yyyy}/{MM}/{dd}/{HH}/{mm}', hourly, {})).toBe('2024/03/10/14/00')
    const daily = timeParts(Date.UTC(2024, 2, 10, 14, 37), 'UTC', 'day')
    expect(renderPath('{yyyy}/{MM}/{dd}/{HH}/{mm}', daily, {})).toBe('2024/03/10/00/00')
    expect(renderPath('{hour}{hour}', minutely, {})).toBe('1414')
  })

  it('leaves unknown tokens and plain text as they are', () => {
    expect(renderPath('a/{foo}/{Date}/{ date }/{}/b', hourly, {})).toBe('a/{foo}/{Date}/{ date }/{}/b')
    expect(renderPath('static/prefix', hourly, { client: 'x' })).toBe('static/prefix')
    expect(renderPath('{yyyy', hourly, {})).toBe('{yyyy')
  })

  it('renders the default template of a topic config', () => {
    const config = decodeConfigFields({})
    expect(config.pathTemplate).toBe('dt={date}/hr={hour}')
    const parts = timeParts(Date.UTC(2024, 2, 10, 14, 37), config.time.timeZone, config.time.granularity)
    expect(renderPath(config.pathTemplate, parts, undefined)).toBe('dt=2024-03-10/hr=14')
    expect(templateReadsFields(config.pathTemplate)).toBe(false)
  })

  // `{$.constructor}` passes config validation; for a record without that field readJsonPath returns
  // Object's constructor function, JSON.stringify(function) is undefined and pathSegment throws.
  it.each(['$.constructor', '$.toString', '$.__proto__'])(
    'writes unknown for {%s} when the record has no such field',
    (path) => {
      expect(renderPath(`c={${path}}`, hourly, JSON.parse('{"client":"acme"}'))).toBe('c=unknown')
    },
  )
})

describe('templateReadsFields', () => {
  it.each([
    ['dt={date}/hr={hour}', false],
    ['{yyyy}/{MM}/{dd}/{HH}/{mm}', false],
    ['static', false],
    ['$.client', false],
    ['{foo}', false],
    ['client={$.client}', true],
    ['dt={date}/hr={hour}/client={$.client}/product={$.product}', true],
    ['{$.a.b[0]}', true],
    ['{$}', true],
  ] as const)('%j -> %s', (template, expected) => {
    expect(templateReadsFields(template)).toBe(expected)
  })
})

describe('PathRenderer', () => {
  const templates = [
    'dt={date}/hr={hour}',
    '{yyyy}/{MM}/{dd}/{HH}/{mm}',
    'dt={date}/hr={hour}/client={$.client}/product={$.product.name}',
    'static/{unknown}/{minute}-end',
    'no-tokens',
    '',
  ]
  const zones = ['UTC', 'Asia/Kolkata', 'America/New_York']
  const granularities = ['minute', 'hour', 'day'] as const
  // Across a DST change in New York and midnight in Kolkata, out of order, minutes repeated.
  const start = Date.UTC(2024, 2, 10, 5, 50)
  const times = Array.from({ length: 400 }, (_, i) => start + ((i * 7919) % 400) * 37_000)
  const records = [{ client: 'acme', product: { name: 'x/y' } }, { client: 'b' }, null]

  for (const template of templates)
    for (const zone of zones)
      for (const granularity of granularities)
        it(`renders ${JSON.stringify(template)} in ${zone} by ${granularity} as renderPath does`, () => {
          const renderer = new PathRenderer(template, zone, granularity)
          times.forEach((ms, i) => {
            const record = records[i % records.length]
            expect(renderer.render(ms, record)).toBe(
              renderPath(template, timeParts(ms, zone, granularity), record),
            )
          })
        })
})
