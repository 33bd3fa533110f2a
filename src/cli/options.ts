// The flags and environment variables of `kdp-archiver`, decoded into one options object.
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { SinkUrl } from '../processes/state/topicConfig.js'
import { sinkUrlProblem } from '../sinks/openSink.js'
import type { S3SinkOptions } from '../sinks/s3SinkOptions.js'
import { type LogLevel, parseLogLevel } from '../util/logging.js'
import { type CliResult, type Environment, type FlagSpec, type Program, parseCommandLine } from './command.js'
import { configCodec, configFlag } from './configFile.js'
import { kafkaCodecs, kafkaFlags } from './kafkaOptions.js'
import { describeKafka } from './kafkaSecurity.js'
import { type KafkaCliSettings, kafkaSettings } from './kafkaSettings.js'
import { formatBytes } from './progress.js'
import { s3Codecs, s3Flags, s3Settings } from './s3Options.js'
import { type ScalingCliSettings, scalingCodecs, scalingFlags, scalingSettings } from './scalingOptions.js'
import {
  booleanFlag,
  fromList,
  fromText,
  integerText,
  isHost,
  parseDuration,
  parseRegexList,
  parseSize,
  resolveSinkUrl,
  Secret,
} from './values.js'
import { packageVersion } from './version.js'

export const program = 'kdp-archiver'

/** Everything `kdp-archiver` needs to run a node. */
export interface ArchiverCliOptions {
  readonly brokers: readonly string[]
  /** TLS, SASL and timeouts of every Kafka connection of the node (see kafkaSecurity). */
  readonly kafka: KafkaCliSettings
  /** An absolute sink URL: `s3://bucket/prefix` or `file:///dir`. */
  readonly sink: string
  readonly include: readonly string[]
  readonly exclude: readonly string[]
  readonly httpPort: number
  readonly httpHost: string
  /** Origins besides the cluster's nodes allowed to read the API cross-origin (a load balancer's). */
  readonly httpCorsOrigins: readonly string[]
  /** How often the node publishes its status (and the dashboard's ticker moves). */
  readonly statusIntervalMs: number
  /** Bearer token for writes to the HTTP API; undefined: writes are refused. */
  readonly token: Secret | undefined
  readonly cluster: string
  readonly nodeId: string | undefined
  readonly maxMessagesInFlight: number
  readonly maxBytesInFlight: number
  readonly logLevel: LogLevel
  /** Show the live progress line (only ever on a terminal). */
  readonly progress: boolean
  /** Options of S3 sinks, from `KDP_S3_*` and `AWS_REGION`, or the config file's `s3` section. */
  readonly s3: S3SinkOptions
  /** The Auto Scaling group and this node's instance id (scalingOptions.ts). */
  readonly scaling: ScalingCliSettings
}

export type ArchiverCliResult = CliResult<ArchiverCliOptions>

export const defaultMaxBytesInFlight = 256 * 2 ** 20

export const archiverFlags: readonly FlagSpec[] = [
  ...kafkaFlags,
  ...s3Flags,
  ...scalingFlags,
  {
    name: 'sink',
    file: 'sink',
    env: 'KDP_SINK',
    kind: 'string',
    placeholder: '<url>',
    required: true,
    description:
      'Where new topics are archived: s3://bucket/prefix or file:///absolute/dir. A relative file://./dir or a plain path is resolved against the current directory.',
  },
  {
    name: 'include',
    file: 'include',
    env: 'KDP_INCLUDE',
    kind: 'list',
    placeholder: '<regex,...>',
    defaultText: '.*',
    description:
      'Topics to archive: regular expressions matched against the whole topic name, comma-separated ' +
      "(commas inside (), [] or {} don't split; the flag may be repeated). Kafka's __ topics, .dlq topics " +
      "and kdp's own (of any kdp cluster on the Kafka) are never archived.",
  },
  {
    name: 'exclude',
    file: 'exclude',
    env: 'KDP_EXCLUDE',
    kind: 'list',
    placeholder: '<regex,...>',
    defaultText: 'none',
    description: 'Topics never to archive, same form as --include; wins over --include.',
  },
  {
    name: 'http-port',
    file: 'http.port',
    env: 'KDP_HTTP_PORT',
    kind: 'string',
    placeholder: '<port>',
    defaultText: '8080',
    description: 'Port of the HTTP API and dashboard; 0 picks a free port (see the startup line).',
  },
  {
    name: 'http-host',
    file: 'http.host',
    env: 'KDP_HTTP_HOST',
    kind: 'string',
    placeholder: '<host>',
    defaultText: '127.0.0.1',
    description: 'Interface the HTTP API binds to; 0.0.0.0 serves every interface.',
  },
  {
    name: 'http-cors-origin',
    file: 'http.corsOrigins',
    env: 'KDP_HTTP_CORS_ORIGINS',
    kind: 'list',
    placeholder: '<origin,...>',
    defaultText: "the cluster's nodes",
    description:
      'Origins (http(s)://host[:port]) besides the nodes themselves whose pages may read this API and its dashboard stream across origins, such as a load balancer in front of the nodes. Reads only.',
  },
  {
    name: 'status-interval',
    file: 'statusInterval',
    printAs: (ms) => `${String(ms)}ms`,
    env: 'KDP_STATUS_INTERVAL',
    kind: 'string',
    placeholder: '<duration>',
    defaultText: '5s',
    description:
      'How often the node publishes its status (load, lag, processes); the dashboard moves at this pace and shows a node lost after 3 silent intervals. 200ms to 1m.',
  },
  {
    name: 'token',
    file: 'http.token',
    env: 'KDP_TOKEN',
    kind: 'string',
    placeholder: '<token>',
    defaultText: 'none (writes refused)',
    secret: true,
    description:
      'Bearer token required for writes to the HTTP API. Never printed or logged; prefer the environment variable, which other users cannot see in the process list.',
  },
  {
    name: 'cluster',
    file: 'cluster',
    env: 'KDP_CLUSTER',
    kind: 'string',
    placeholder: '<name>',
    defaultText: 'kdp',
    description:
      "Cluster name: prefix of kdp's own topics and consumer groups. Nodes with the same name cooperate.",
  },
  {
    name: 'node-id',
    file: 'nodeId',
    env: 'KDP_NODE_ID',
    kind: 'string',
    placeholder: '<id>',
    defaultText: '<hostname>-<pid>-<random>',
    description: 'Name of this node in the cluster (status, logs, dashboard).',
  },
  {
    name: 'max-messages-in-flight',
    file: 'maxMessagesInFlight',
    env: 'KDP_MAX_MESSAGES_IN_FLIGHT',
    kind: 'string',
    placeholder: '<n>',
    defaultText: '100000',
    description:
      'Records buffered by all archivers of this node at most; at the bound they flush and fetching pauses.',
  },
  {
    name: 'max-bytes-in-flight',
    file: 'maxBytesInFlight',
    env: 'KDP_MAX_BYTES_IN_FLIGHT',
    kind: 'string',
    placeholder: '<size>',
    defaultText: '256MiB',
    description: 'Bytes buffered by all archivers of this node at most: 268435456, 256MiB, 1GiB, 64MB...',
  },
  {
    name: 'log-level',
    file: 'logLevel',
    env: 'KDP_LOG_LEVEL',
    kind: 'string',
    placeholder: '<level>',
    defaultText: 'info',
    description: 'debug, info, warn, error or silent. Logs are JSON lines on stderr.',
  },
  {
    name: 'no-progress',
    file: 'progress',
    fileNegates: true,
    env: 'KDP_NO_PROGRESS',
    kind: 'boolean',
    description: 'No live progress line (it is only ever shown when stderr is a terminal).',
  },
  configFlag(
    'A JSON file holding any of these settings (see the README); a flag or an environment variable wins over it.',
  ),
  {
    name: 'print-config',
    kind: 'boolean',
    description: 'Print the settings in effect as a config file (secrets redacted) and exit.',
  },
]

const examples = `S3 sinks: credentials come from the usual AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, instance roles...), the region from AWS_REGION. KDP_S3_ENDPOINT (an http(s) URL) and
KDP_S3_FORCE_PATH_STYLE=true point them at an S3-compatible store; KDP_S3_SSE (AES256 or aws:kms)
and KDP_S3_SSE_KMS_KEY_ID set server-side encryption (or the config file's s3 section). All of them:
${s3Flags.map((flag) => `  ${flag.env}: ${flag.description}`).join('\n')}

Auto Scaling: with --autoscaling-group the cluster's scaler changes that group (same AWS chain and
AWS_REGION; KDP_AUTOSCALING_ENDPOINT overrides the API's endpoint); without it the scaler only
recommends a node count (GET /scaling, for Kubernetes). KDP_STATUS_INTERVAL (default 5s) is how
often a node publishes its status, which the scaler reads.

Examples:
  # Archive every topic to a local folder, HTTP API on http://127.0.0.1:8080
  ${program} --brokers localhost:9092 --sink file://./archive

  # Archive the orders-* topics but not the test ones to S3; writes need the token
  KDP_TOKEN=change-me ${program} --brokers b1:9092,b2:9092 --sink s3://my-bucket/kafka \\
    --include 'orders-.*' --exclude '.*-test'

  # A second node of the same cluster on the same machine
  ${program} --brokers localhost:9092 --sink file://./archive --http-port 0 --node-id node-2
`

/** `kdp-archiver` for the command-line machinery (command.ts). */
export const archiverProgram: Program = {
  name: program,
  usage: '--brokers <host:port,...> --sink <url> [options]',
  description: `${program} — archive Kafka topics to S3 or a local folder, as one node of a self-managing cluster.

Every node started with the same --brokers and --cluster joins the same cluster; Kafka is the only
coordinator. The cluster finds topics matching --include, archives each to --sink (files
partitioned by time, gzip JSON Lines by default) and spreads the archivers over the nodes. Every
node serves the same HTTP API and dashboard. A flag wins over its environment variable, which wins
over the config file (--config).`,
  epilog: examples,
  version: `${program} ${packageVersion()}`,
}

const sinkCodec = (cwd: string) =>
  fromText<string>('SinkUrl', (text) => {
    const checked = resolveSinkUrl(text, cwd)
    if ('reason' in checked) return checked
    const problem = sinkUrlProblem(checked.ok)
    if (problem !== undefined) return { reason: problem }
    // The URL also goes into topic configs, which check it with their own codec.
    if (isLeft(SinkUrl.decode(checked.ok)))
      return { reason: 'expected s3://bucket/prefix or file:///absolute/dir' }
    return checked
  })

const ArchiverFlags = (cwd: string) =>
  t.type({
    ...kafkaCodecs(cwd),
    ...s3Codecs,
    ...scalingCodecs,
    config: configCodec,
    'print-config': booleanFlag(false),
    sink: sinkCodec(cwd),
    include: fromList('RegexList', parseRegexList, { fallback: ['.*'] }),
    // An empty list (as --print-config writes the default) excludes nothing.
    exclude: fromList('RegexList', (items) => (items.length === 0 ? { ok: [] } : parseRegexList(items)), {
      fallback: [],
    }),
    'http-port': fromText<number>('Port', (s) => integerText(s, 0, 65_535), { fallback: 8080 }),
    'http-host': fromText<string>(
      'Host',
      (s) => (isHost(s.trim()) ? { ok: s.trim() } : { reason: 'expected a host name or an IP address' }),
      { fallback: '127.0.0.1' },
    ),
    'http-cors-origin': fromList<string[]>(
      'Origins',
      (items) => {
        const origins: string[] = []
        for (const item of items) {
          let url: URL | undefined
          try {
            url = new URL(item)
          } catch {
            // Reported below.
          }
          if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== item.replace(/\/$/, ''))
            return {
              reason: `expected origins such as https://lb.example.com:8443, not ${JSON.stringify(item)}`,
            }
          origins.push(url.origin)
        }
        return { ok: origins }
      },
      { fallback: [] },
    ),
    'status-interval': fromText<number>(
      'Duration',
      (s) => {
        const parsed = parseDuration(s)
        if (!('ok' in parsed)) return parsed
        return parsed.ok >= 200 && parsed.ok <= 60_000
          ? parsed
          : { reason: 'expected a duration from 200ms to 1m' }
      },
      { fallback: 5000 },
    ),
    token: fromText<Secret | undefined>(
      'Token',
      (s) =>
        /^[\x21-\x7e]{1,4096}$/.test(s)
          ? { ok: new Secret(s) }
          : { reason: 'expected 1-4096 printable characters without spaces (the value is not shown)' },
      { fallback: undefined, secret: true },
    ),
    cluster: fromText<string>(
      'ClusterName',
      (s) =>
        /^[A-Za-z0-9._-]{1,200}$/.test(s)
          ? { ok: s }
          : { reason: 'expected 1-200 of A-Z a-z 0-9 . _ - (it prefixes Kafka topic names)' },
      { fallback: 'kdp' },
    ),
    'node-id': fromText<string | undefined>(
      'NodeId',
      (s) =>
        /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/.test(s)
          ? { ok: s }
          : { reason: 'expected 1-100 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit' },
      { fallback: undefined },
    ),
    'max-messages-in-flight': fromText<number>(
      'PositiveInteger',
      (s) => integerText(s, 1, Number.MAX_SAFE_INTEGER),
      { fallback: 100_000 },
    ),
    'max-bytes-in-flight': fromText<number>('Size', parseSize, { fallback: defaultMaxBytesInFlight }),
    'log-level': fromText<LogLevel>('LogLevel', parseLogLevel, { fallback: 'info' }),
    'no-progress': booleanFlag(false),
  })

/**
 * Parses `kdp-archiver`'s command line, environment and config file. Pure: no output, no exit (it
 * reads the files the settings name); `cwd` resolves relative paths. A flag wins over its
 * environment variable, which wins over the config file; an empty environment variable is unset.
 */
export function parseCli(
  argv: readonly string[],
  env: Environment,
  cwd: string = process.cwd(),
): ArchiverCliResult {
  return parseCommandLine(archiverProgram, archiverFlags, ArchiverFlags(cwd), { argv, env, cwd }, (v) => ({
    brokers: v.brokers,
    kafka: kafkaSettings(v, env),
    sink: v.sink,
    include: v.include,
    exclude: v.exclude,
    httpPort: v['http-port'],
    httpHost: v['http-host'],
    httpCorsOrigins: v['http-cors-origin'],
    statusIntervalMs: v['status-interval'],
    token: v.token,
    cluster: v.cluster,
    nodeId: v['node-id'],
    maxMessagesInFlight: v['max-messages-in-flight'],
    maxBytesInFlight: v['max-bytes-in-flight'],
    logLevel: v['log-level'],
    progress: !v['no-progress'],
    s3: s3Settings(v),
    scaling: scalingSettings(v),
  }))
}

/** A one-line summary of the options for the startup line (never the token). */
export function describeOptions(options: ArchiverCliOptions): string {
  return [
    `cluster ${options.cluster}`,
    `Kafka ${describeKafka(options.kafka)}`,
    `sink ${options.sink}`,
    `include ${options.include.join(',')}`,
    ...(options.exclude.length > 0 ? [`exclude ${options.exclude.join(',')}`] : []),
    `in flight ≤ ${options.maxMessagesInFlight} records / ${formatBytes(options.maxBytesInFlight)}`,
    `writes ${options.token ? 'need the token' : 'disabled (no token)'}`,
    ...(options.scaling.autoscaling ? [`Auto Scaling group ${options.scaling.autoscaling.group}`] : []),
  ].join(', ')
}
