// Fake tweets for the load generator: deterministic for a seed, of a chosen size and key spread.

/** One fake tweet, as produced (JSON) by the load generator. */
export interface Tweet {
  /** Snowflake-like id: time since the Twitter epoch and a sequence number. */
  readonly id: string
  /** The author, `user-000042`; also the record key. */
  readonly user: string
  readonly lang: string
  readonly text: string
  readonly hashtags: readonly string[]
  /** ISO 8601, UTC. */
  readonly created_at: string
  /** Epoch milliseconds, the same instant as `created_at`. */
  readonly timestamp_ms: number
  readonly likes: number
  readonly retweets: number
  readonly replies: number
}

/** A record ready for Kafka. */
export interface FakeRecord {
  readonly key: string
  /** The tweet as JSON (ASCII only, so its length is its size in bytes). */
  readonly value: string
  readonly timestamp: number
}

export interface TweetOptions {
  /** Same seed, same options, same clock: same records. */
  readonly seed: number
  /** Size of each value in bytes; the text is padded or cut to reach it exactly (above the smallest tweet). */
  readonly valueBytes: number
  /** Number of distinct keys (authors). */
  readonly keys: number
  /** The clock for `created_at` (default Date.now). */
  readonly now?: () => number
}

/** mulberry32: a small, fast, seedable PRNG returning [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4_294_967_296
  }
}

const words = (
  'kafka stream event archive node cluster lag offset partition broker topic record replay ' +
  'coffee morning deploy friday weekend launch release build test green red latency cloud bucket ' +
  'the a of to and in is it you that was for on are with as I his they be at one have this from ' +
  'great amazing terrible love hate today tomorrow never always really just new old fast slow ' +
  'music game match goal team city rain sun night party news story photo video live thread'
).split(' ')
const tags = [
  'kafka',
  'nodejs',
  'typescript',
  'devops',
  'bigdata',
  'mondaymotivation',
  'news',
  'music',
  'tbt',
]
/** Languages with rough shares of real traffic. */
const langs: ReadonlyArray<readonly [string, number]> = [
  ['en', 0.5],
  ['es', 0.12],
  ['ja', 0.1],
  ['pt', 0.08],
  ['fr', 0.06],
  ['de', 0.05],
  ['ar', 0.05],
  ['und', 0.04],
]
const twitterEpoch = 1_288_834_974_657n

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T
}

function pickLang(random: () => number): string {
  let r = random()
  for (const [lang, share] of langs) {
    r -= share
    if (r < 0) return lang
  }
  return 'en'
}

/** The author handle of key index `k`, padded to the width of the largest index. */
export function userKey(k: number, keys: number): string {
  return `user-${String(k).padStart(Math.max(6, String(keys - 1).length), '0')}`
}

/**
 * An endless sequence of fake tweets. Values are exactly `valueBytes` long whenever that is at least
 * the size of the tweet with a one-word text (about 250 bytes); smaller targets give that smallest tweet.
 */
export function* fakeTweets(options: TweetOptions): Generator<FakeRecord, never, undefined> {
  if (!Number.isInteger(options.keys) || options.keys < 1) throw new RangeError('keys must be ≥ 1')
  if (!Number.isInteger(options.valueBytes) || options.valueBytes < 1) {
    throw new RangeError('valueBytes must be ≥ 1')
  }
  const random = seededRandom(options.seed)
  const now = options.now ?? Date.now
  // A long run of words to cut texts from, so that large values cost no per-word work.
  let filler = ''
  while (filler.length < 64 * 1024) filler += `${pick(random, words)} `
  for (let sequence = 0; ; sequence++) {
    const timestamp = now()
    const k = Math.floor(random() * options.keys)
    const user = userKey(k, options.keys)
    const hashtags = random() < 0.4 ? [pick(random, tags)] : []
    const popularity = random() ** 4
    const tweet: Tweet = {
      id: (((BigInt(timestamp) - twitterEpoch) << 22n) | BigInt(sequence % 4_194_304)).toString(),
      user,
      lang: pickLang(random),
      text: '',
      hashtags,
      created_at: new Date(timestamp).toISOString(),
      timestamp_ms: timestamp,
      likes: Math.floor(popularity * 50_000),
      retweets: Math.floor(popularity * 8_000),
      replies: Math.floor(random() * popularity * 2_000),
    }
    const empty = JSON.stringify(tweet).length
    const start = Math.floor(random() * filler.length)
    const firstWord = pick(random, words)
    const textLength = Math.max(firstWord.length, options.valueBytes - empty)
    let text = firstWord
    if (textLength > firstWord.length) {
      let rest = ` ${filler.slice(start)}`
      while (rest.length < textLength - firstWord.length) rest += filler
      text = (firstWord + rest.slice(0, textLength - firstWord.length)).replace(/ $/, '.')
    }
    const value = JSON.stringify({ ...tweet, text })
    yield { key: user, value, timestamp }
  }
}
