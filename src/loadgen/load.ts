// The load generator: fake tweets to a Kafka topic at a steady rate. `loadgen.ts` is its command
// line; the demo runs it in-process through startLoad().
import { randomInt } from 'node:crypto'
import * as t from 'io-ts'
import {
  booleanFlag,
  brokersCodec,
  decodeFlags,
  type FlagSpec,
  fromText,
  integerText,
  optionsHelp,
  parseDuration,
  parseSize,
  readFlags,
} from '../cli/flags.js'
import { connectKafka } from '../kafka/index.js'
import type { Logger } from '../util/logging.js'
import { sleep } from '../util/sleep.js'
import { fakeTweets } from './tweets.js'

export const loadgenProgram = 'loadgen'
const program = { name: loadgenProgram, helpCommand: 'npm run loadgen -- --help' }

export interface LoadOptions {
  readonly brokers: readonly string[]
  readonly topic: string
  /** Partitions of the topic when it has to be created. */
  readonly partitions: number
  /** Records per second; 0: as fast as the broker takes them. */
  readonly rate: number
  readonly valueBytes: number
  readonly keys: number
  /** Stop after this many records (undefined: no limit). */
  readonly count: number | undefined
  /** Stop after this long (undefined: no limit). */
  readonly durationMs: number | undefined
  readonly seed: number
}

export interface LoadgenCliOptions extends LoadOptions {
  readonly progress: boolean
}

export type LoadgenCliResult =
  | { readonly kind: 'run'; readonly options: LoadgenCliOptions }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | { readonly kind: 'error'; readonly message: string }

/** Largest value: the broker's default message.max.bytes is 1 MiB per record batch. */
export const maxValueBytes = 900 * 1024

export const loadgenFlags: readonly FlagSpec[] = [
  {
    name: 'brokers',
    env: 'KDP_BROKERS',
    kind: 'list',
    placeholder: '<host:port,...>',
    required: true,
    description: 'Kafka bootstrap brokers, comma-separated.',
  },
  {
    name: 'topic',
    kind: 'string',
    placeholder: '<name>',
    defaultText: 'tweets',
    description: 'Topic to produce to; created if missing.',
  },
  {
    name: 'partitions',
    kind: 'string',
    placeholder: '<n>',
    defaultText: '6',
    description: 'Partitions of the topic when it is created (an existing topic is used as it is).',
  },
  {
    name: 'rate',
    kind: 'string',
    placeholder: '<records/s>',
    defaultText: '100',
    description: 'Records per second; 0 produces as fast as the broker accepts.',
  },
  {
    name: 'size',
    kind: 'string',
    placeholder: '<bytes>',
    defaultText: '300',
    description: `Size of each value (the tweet's text is padded): 300, 2KiB, 64KiB... at most ${maxValueBytes / 1024}KiB.`,
  },
  {
    name: 'keys',
    kind: 'string',
    placeholder: '<n>',
    defaultText: '1000',
    description: 'Number of distinct keys (tweet authors), spread uniformly.',
  },
  {
    name: 'count',
    kind: 'string',
    placeholder: '<n>',
    defaultText: 'no limit',
    description: 'Stop after this many records.',
  },
  {
    name: 'duration',
    kind: 'string',
    placeholder: '<time>',
    defaultText: 'no limit',
    description: 'Stop after this long: 30s, 5m, 2h, 500ms (a bare number is seconds).',
  },
  {
    name: 'seed',
    kind: 'string',
    placeholder: '<n>',
    defaultText: 'random',
    description: 'Seed of the generator: the same seed gives the same keys and texts.',
  },
  {
    name: 'no-progress',
    kind: 'boolean',
    description: 'No live progress line (it is only ever shown when stderr is a terminal).',
  },
  { name: 'help', short: 'h', kind: 'boolean', description: 'Show this help and exit.' },
]

export const loadgenHelp = `${loadgenProgram} — produce fake tweets (JSON) to a Kafka topic at a steady rate.

Each record is a tweet keyed by its author: {"id","user","lang","text","hashtags","created_at"
(ISO),"timestamp_ms","likes","retweets","replies"}. Without --count or --duration it runs until
Ctrl-C.

Usage: npm run loadgen -- --brokers <host:port,...> [options]

Options:
${optionsHelp(loadgenFlags)}

Examples:
  npm run loadgen -- --brokers localhost:9092 --rate 200
  npm run loadgen -- --brokers localhost:9092 --topic big --size 8KiB --keys 50 --duration 5m
  npm run loadgen -- --brokers localhost:9092 --count 1000000 --rate 0 --seed 42
`

const wholeNumber = (min: number, max: number, fallback?: number) =>
  fromText<number>('Integer', (s) => integerText(s, min, max), fallback === undefined ? {} : { fallback })
const optional = <A>(codec: t.Type<A, unknown, unknown>) =>
  new t.Type<A | undefined, unknown, unknown>(
    `Optional<${codec.name}>`,
    (u): u is A | undefined => u === undefined || codec.is(u),
    (input, context) => (input === undefined ? t.success(undefined) : codec.validate(input, context)),
    (a) => a,
  )

const LoadgenFlags = (randomSeed: number) =>
  t.type({
    brokers: brokersCodec,
    topic: fromText<string>(
      'KafkaTopicName',
      (s) =>
        /^[A-Za-z0-9._-]{1,249}$/.test(s) && s !== '.' && s !== '..'
          ? { ok: s }
          : { reason: 'expected a Kafka topic name: 1-249 of A-Z a-z 0-9 . _ -' },
      { fallback: 'tweets' },
    ),
    partitions: wholeNumber(1, 10_000, 6),
    rate: wholeNumber(0, 10_000_000, 100),
    size: fromText<number>(
      'Size',
      (s) => {
        const parsed = parseSize(s)
        if ('ok' in parsed && parsed.ok > maxValueBytes)
          return { reason: `expected at most ${maxValueBytes / 1024}KiB` }
        return parsed
      },
      { fallback: 300 },
    ),
    keys: wholeNumber(1, 100_000_000, 1000),
    count: optional(wholeNumber(1, Number.MAX_SAFE_INTEGER)),
    duration: optional(fromText<number>('Duration', parseDuration)),
    seed: wholeNumber(0, 2 ** 32 - 1, randomSeed),
    'no-progress': booleanFlag(false),
  })

/** Parses the load generator's command line (pure, like parseCli). `randomSeed` is the default seed. */
export function parseLoadgenCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  randomSeed: number = randomInt(2 ** 31),
): LoadgenCliResult {
  const raw = readFlags(program, loadgenFlags, argv, env)
  if (raw.kind === 'help') return { kind: 'help', text: loadgenHelp }
  if (raw.kind !== 'ok') return raw
  const decoded = decodeFlags(program, loadgenFlags, LoadgenFlags(randomSeed), raw)
  if (decoded.kind === 'error') return decoded
  const v = decoded.value
  return {
    kind: 'run',
    options: {
      brokers: v.brokers,
      topic: v.topic,
      partitions: v.partitions,
      rate: v.rate,
      valueBytes: v.size,
      keys: v.keys,
      count: v.count,
      durationMs: v.duration,
      seed: v.seed,
      progress: !v['no-progress'],
    },
  }
}

/** A running load. */
export interface Load {
  /** Records and value bytes acknowledged by the broker so far. */
  sent(): { records: number; bytes: number }
  /** Partitions of the topic. */
  readonly partitions: number
  /** Whether the topic was created by this load. */
  readonly created: boolean
  /** Settles when the load ended (count or duration reached, or stop()); rejects if producing failed. */
  readonly done: Promise<void>
  /** Stops producing (after the batch in flight) and disconnects. */
  stop(): Promise<void>
}

/** Largest batch of one send, in bytes of values: well below the broker's 1 MiB per record batch. */
const batchBytes = 512 * 1024

/**
 * Creates the topic if missing and produces fake tweets at `rate` (a steady pace, caught up in
 * batches of at most 1000 records) until the count or duration is reached or stop() is called.
 */
export async function startLoad(options: LoadOptions, logger: Logger): Promise<Load> {
  const kafka = connectKafka({ brokers: options.brokers, clientId: 'kdp-loadgen', logger })
  let topic: { partitions: number; created: boolean }
  try {
    topic = await kafka.ensureTopic({ topic: options.topic, partitions: options.partitions })
  } catch (error) {
    await kafka.disconnect().catch(() => {})
    throw error
  }
  const { partitions, created } = topic

  const tweets = fakeTweets({ seed: options.seed, valueBytes: options.valueBytes, keys: options.keys })
  const maxBatch = Math.max(1, Math.min(1000, Math.floor(batchBytes / options.valueBytes)))
  let records = 0
  let bytes = 0
  let stopping = false
  const wake = new AbortController()

  const loop = async (): Promise<void> => {
    const started = performance.now()
    const limit = options.count ?? Number.POSITIVE_INFINITY
    while (!stopping && records < limit) {
      const elapsed = performance.now() - started
      if (options.durationMs !== undefined && elapsed >= options.durationMs) break
      const due = options.rate === 0 ? maxBatch : Math.floor((options.rate * elapsed) / 1000) - records
      const size = Math.min(due, maxBatch, limit - records)
      if (size <= 0) {
        // Sleep until the next record is due.
        const nextAt = ((records + 1) * 1000) / options.rate
        await sleep(Math.max(1, Math.min(100, nextAt - elapsed)), wake.signal)
        continue
      }
      const messages = Array.from({ length: size }, () => {
        const record = tweets.next().value
        return { key: record.key, value: record.value, timestamp: record.timestamp }
      })
      await kafka.sendBatch(options.topic, messages)
      records += size
      for (const m of messages) bytes += m.value.length
    }
  }
  const done = loop().finally(() => kafka.disconnect())
  // A failure is reported through `done`; this only keeps it from being an unhandled rejection.
  done.catch(() => {})
  return {
    sent: () => ({ records, bytes }),
    partitions,
    created,
    done,
    stop: async () => {
      stopping = true
      wake.abort()
      await done.catch(() => {})
    },
  }
}
