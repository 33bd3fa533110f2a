import { describe, expect, it } from 'vitest'
import { loadgenFlags, maxValueBytes, parseLoadgenCli } from '../../src/loadgen/cli.js'
import { type FakeRecord, fakeTweets, seededRandom, type Tweet, userKey } from '../../src/loadgen/tweets.js'

function take(n: number, options: Parameters<typeof fakeTweets>[0]): FakeRecord[] {
  const tweets = fakeTweets(options)
  return Array.from({ length: n }, () => tweets.next().value)
}

/** A clock that starts at a fixed instant and moves 5 ms per call. */
function fixedClock(): () => number {
  let now = Date.UTC(2024, 4, 1, 12, 0, 0)
  return () => {
    now += 5
    return now
  }
}

describe('fakeTweets', () => {
  it('produces tweets with every field, the key being the author', () => {
    const [record] = take(1, { seed: 1, valueBytes: 400, keys: 10, now: fixedClock() })
    const tweet = JSON.parse(record?.value ?? '') as Tweet
    expect(Object.keys(tweet).sort()).toEqual(
      [
        'created_at',
        'hashtags',
        'id',
        'lang',
        'likes',
        'replies',
        'retweets',
        'text',
        'timestamp_ms',
        'user',
      ].sort(),
    )
    expect(tweet.user).toBe(record?.key)
    expect(tweet.user).toMatch(/^user-\d{6}$/)
    expect(new Date(tweet.created_at).getTime()).toBe(tweet.timestamp_ms)
    expect(record?.timestamp).toBe(tweet.timestamp_ms)
    expect(tweet.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(tweet.id).toMatch(/^\d+$/)
    expect(tweet.text.length).toBeGreaterThan(0)
  })

  it.each([260, 300, 1000, 4096, 100_000])('makes values of exactly %d bytes', (size) => {
    for (const record of take(200, { seed: 7, valueBytes: size, keys: 100 })) {
      expect(Buffer.byteLength(record.value)).toBe(size)
      expect(record.value.length).toBe(size)
      expect(() => JSON.parse(record.value)).not.toThrow()
    }
  })

  it('gives the smallest tweet for a target below it', () => {
    for (const record of take(50, { seed: 3, valueBytes: 10, keys: 5 })) {
      const tweet = JSON.parse(record.value) as Tweet
      expect(tweet.text).not.toContain(' ')
      expect(record.value.length).toBeLessThan(300)
    }
  })

  it('spreads records over exactly the requested number of keys', () => {
    const records = take(5000, { seed: 11, valueBytes: 300, keys: 25 })
    const counts = new Map<string, number>()
    for (const r of records) counts.set(r.key, (counts.get(r.key) ?? 0) + 1)
    expect(counts.size).toBe(25)
    // Uniform: every key gets 200 ± a generous margin.
    for (const count of counts.values()) expect(count).toBeGreaterThan(120)
    expect(take(100, { seed: 1, valueBytes: 300, keys: 1 }).every((r) => r.key === 'user-000000')).toBe(true)
    expect(userKey(1_234_567, 10_000_000)).toBe('user-1234567')
  })

  it('is deterministic for a seed and a clock, and differs between seeds', () => {
    const a = take(300, { seed: 42, valueBytes: 500, keys: 1000, now: fixedClock() })
    const b = take(300, { seed: 42, valueBytes: 500, keys: 1000, now: fixedClock() })
    const c = take(300, { seed: 43, valueBytes: 500, keys: 1000, now: fixedClock() })
    expect(b).toEqual(a)
    expect(c.map((r) => r.key)).not.toEqual(a.map((r) => r.key))
    const ids = new Set(a.map((r) => (JSON.parse(r.value) as Tweet).id))
    expect(ids.size).toBe(300)
  })

  it('refuses nonsense options', () => {
    expect(() => take(1, { seed: 1, valueBytes: 300, keys: 0 })).toThrow(RangeError)
    expect(() => take(1, { seed: 1, valueBytes: 0, keys: 1 })).toThrow(RangeError)
  })

  it('has a PRNG in [0, 1) that depends on the seed', () => {
    const random = seededRandom(5)
    const values = Array.from({ length: 1000 }, random)
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true)
    expect(seededRandom(5)()).toBe(values[0])
    expect(seededRandom(6)()).not.toBe(values[0])
  })
})

describe('parseLoadgenCli', () => {
  it('has defaults for everything but the brokers', () => {
    const result = parseLoadgenCli(['--brokers', 'k:9092'], {}, 99)
    expect(result).toEqual({
      kind: 'run',
      options: {
        brokers: ['k:9092'],
        kafka: { tls: false, sasl: undefined, connectionTimeoutMs: undefined, requestTimeoutMs: undefined },
        topic: 'tweets',
        partitions: 6,
        rate: 100,
        valueBytes: 300,
        keys: 1000,
        count: undefined,
        durationMs: undefined,
        seed: 99,
        progress: true,
      },
    })
    expect(parseLoadgenCli([], { KDP_BROKERS: 'e:1' }, 1)).toMatchObject({ options: { brokers: ['e:1'] } })
  })

  it('reads every flag', () => {
    const result = parseLoadgenCli(
      [
        '--brokers=a:1,b:2',
        '--topic',
        'load.test_1',
        '--partitions',
        '3',
        '--rate',
        '0',
        '--size',
        '2KiB',
        '--keys',
        '50',
        '--count',
        '1000',
        '--duration',
        '5m',
        '--seed',
        '7',
        '--no-progress',
      ],
      {},
    )
    expect(result).toMatchObject({
      kind: 'run',
      options: {
        brokers: ['a:1', 'b:2'],
        topic: 'load.test_1',
        partitions: 3,
        rate: 0,
        valueBytes: 2048,
        keys: 50,
        count: 1000,
        durationMs: 300_000,
        seed: 7,
        progress: false,
      },
    })
  })

  it.each([
    [['--topic', 'bad topic'], '--topic'],
    [['--partitions', '0'], '--partitions'],
    [['--rate', 'fast'], '--rate'],
    [['--size', '2MiB'], '--size'],
    [['--keys', '0'], '--keys'],
    [['--count', '0'], '--count'],
    [['--duration', '3y'], '--duration'],
    [['--seed', '-5'], '--seed'],
    [['--sink', 'file:///x'], '--sink'],
  ])('rejects %j naming %s', (bad, flag) => {
    const result = parseLoadgenCli(['--brokers', 'k:1', ...bad], {})
    expect(result.kind).toBe('error')
    const message = result.kind === 'error' ? result.message : ''
    expect(message).toContain(flag)
    expect(message).toMatch(/^kdp-loadgen: /)
    expect(message.split('\n').at(-1)).toBe("Run 'kdp-loadgen --help' for usage.")
  })

  it('documents every flag', () => {
    const result = parseLoadgenCli(['--help'], {})
    if (result.kind !== 'help') throw new Error('no help')
    for (const spec of loadgenFlags)
      expect(result.text).toContain(spec.cli === false ? `${spec.env}` : `--${spec.name}`)
    expect(result.text).toContain('KDP_BROKERS')
    expect(result.text).toContain(`${maxValueBytes / 1024}KiB`)
    expect(result.text).toContain('Usage: kdp-loadgen --brokers <host:port,...> [options]')
    expect(parseLoadgenCli(['--version'], {})).toEqual({
      kind: 'version',
      text: expect.stringMatching(/^kdp-loadgen \d+\.\d+\.\d+\n$/),
    })
  })
})
