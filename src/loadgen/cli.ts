// The command line of `kdp-loadgen`: its flags, their environment variables and the Kafka part of
// a config file, decoded into the options of a load.
import { randomInt } from 'node:crypto'
import * as t from 'io-ts'
import {
  type CliResult,
  type Environment,
  type FlagSpec,
  type Program,
  parseCommandLine,
} from '../cli/command.js'
import { configCodec, configFlag } from '../cli/configFile.js'
import { kafkaCodecs, kafkaFlags } from '../cli/kafkaOptions.js'
import { type KafkaCliSettings, kafkaSettings } from '../cli/kafkaSettings.js'
import { archiverFlags } from '../cli/options.js'
import {
  booleanFlag,
  fromText,
  optional,
  parseDuration,
  parseSize,
  parseTopicName,
  wholeNumber,
} from '../cli/values.js'
import { packageVersion } from '../cli/version.js'
import type { LoadOptions } from './load.js'

export interface LoadgenCliOptions extends Omit<LoadOptions, 'kafka'> {
  /** The connection's TLS, SASL and timeouts, secrets still wrapped (see kafkaSecurity). */
  readonly kafka: KafkaCliSettings
  readonly progress: boolean
}

export type LoadgenCliResult = CliResult<LoadgenCliOptions>

/** Largest value: the broker's default message.max.bytes is 1 MiB per record batch. */
export const maxValueBytes = 900 * 1024

export const loadgenFlags: readonly FlagSpec[] = [
  ...kafkaFlags,
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
  configFlag(
    'A kdp-archiver config file (JSON): the load generator takes its Kafka connection (brokers, TLS, SASL) from it.',
  ),
]

/** `kdp-loadgen` for the command-line machinery (src/cli/command.ts). */
export const loadgenProgram: Program = {
  name: 'kdp-loadgen',
  usage: '--brokers <host:port,...> [options]',
  description: `kdp-loadgen — produce fake tweets (JSON) to a Kafka topic at a steady rate.

Each record is a tweet keyed by its author: {"id","user","lang","text","hashtags","created_at"
(ISO),"timestamp_ms","likes","retweets","replies"}. Without --count or --duration it runs until
Ctrl-C. In a checkout, \`npm run loadgen -- <flags>\` runs it.`,
  epilog: `Examples:
  kdp-loadgen --brokers localhost:9092 --rate 200
  kdp-loadgen --brokers localhost:9092 --topic big --size 8KiB --keys 50 --duration 5m
  kdp-loadgen --brokers localhost:9092 --count 1000000 --rate 0 --seed 42
`,
  version: `kdp-loadgen ${packageVersion()}`,
  // The archiver's other settings may stand in the same file; the load generator leaves them alone.
  alsoInConfigFile: archiverFlags,
}

const LoadgenFlags = (randomSeed: number, cwd: string) =>
  t.type({
    ...kafkaCodecs(cwd),
    config: configCodec,
    topic: fromText('KafkaTopicName', parseTopicName, { fallback: 'tweets' }),
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
  env: Environment,
  randomSeed: number = randomInt(2 ** 31),
  cwd: string = process.cwd(),
): LoadgenCliResult {
  return parseCommandLine(
    loadgenProgram,
    loadgenFlags,
    LoadgenFlags(randomSeed, cwd),
    { argv, env, cwd },
    (v) => ({
      brokers: v.brokers,
      kafka: kafkaSettings(v, env),
      topic: v.topic,
      partitions: v.partitions,
      rate: v.rate,
      valueBytes: v.size,
      keys: v.keys,
      count: v.count,
      durationMs: v.duration,
      seed: v.seed,
      progress: !v['no-progress'],
    }),
  )
}
