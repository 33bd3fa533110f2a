import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { sinkUrlProblem } from '../../sinks/location.js'
import { constrained, described, PositiveInteger, Timestamp } from '../../util/codecs.js'
import {
  decodeStrict,
  defaultsOf,
  type FieldError,
  fieldErrors,
  stripUnknown,
  ValidationError,
  withDefault,
} from '../../util/decode.js'

/**
 * The topic config, defined once: these codecs are its decoder, its TypeScript type, its JSON Schema
 * in the OpenAPI document and the README's table (`npm run docs:config`). A description written here
 * is shown in both.
 */

// The same rule as `trim().length > 0`: `\s` and `trim` share ECMAScript's definition of white space.
const NonEmptyString = constrained(t.string, 'NonEmptyString', {
  pattern: '\\S',
  description: 'Not empty, and not only white space.',
})

/** Kafka's own rule for topic names: 1..249 of `[A-Za-z0-9._-]`, and not `.` or `..`. */
export const KafkaTopicName = constrained(t.string, 'KafkaTopicName', {
  pattern: '^(?!\\.\\.?$)[A-Za-z0-9._-]{1,249}$',
  description: 'A Kafka topic name: 1 to 249 of `A-Z a-z 0-9 . _ -`, not `.` or `..`.',
})

/** `s3://bucket/prefix` or `file:///absolute/dir`. */
export const SinkUrl = constrained(
  t.string,
  'SinkUrl(s3://bucket/prefix | file:///dir)',
  {
    pattern: '^(?:s3://|file:///)',
    description:
      '`s3://bucket/prefix` or `file:///absolute/dir`, checked as the sinks check it when they open ' +
      '(bucket name, key prefix, no `.` or `..` segments): a bad URL is refused when the config is saved.',
  },
  (s) => sinkUrlProblem(s) === undefined,
)

const JsonPath = constrained(t.string, 'JsonPath($.a.b)', {
  pattern: '^\\$(\\.[A-Za-z_][A-Za-z0-9_-]*|\\[\\d+\\])+$',
  description: 'A JSON path into the record: `$.a.b`, `$.list[0]`.',
})

/** Zones already checked: building an Intl.DateTimeFormat costs ~1 ms, and every cut record has one. */
const timeZones = new Map<string, boolean>()

function isTimeZone(name: string): boolean {
  let known = timeZones.get(name)
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: name })
      known = true
    } catch {
      known = false
    }
    // Bounded: a flood of made-up names in bad requests must not grow it without end.
    if (timeZones.size < 1000) timeZones.set(name, known)
  }
  return known
}

const TimeZone = constrained(t.string, 'IanaTimeZone', { description: 'An IANA time zone.' }, isTimeZone)

export const SinkSpec = described(
  t.type({
    id: constrained(t.string, 'SinkId([a-z0-9-])', {
      pattern: '^[a-z0-9-]{1,40}$',
      description: 'Names the sink in archiver keys and consumer groups: 1 to 40 of `a-z 0-9 -`.',
    }),
    url: SinkUrl,
  }),
  'One place files go.',
)
export type SinkSpec = t.TypeOf<typeof SinkSpec>

export const TimeSource = described(
  t.type({
    field: withDefault(
      described(
        t.union([JsonPath, t.null]),
        'JSON path of the record field holding the time; null: the Kafka record timestamp.',
      ),
      null,
    ),
    format: withDefault(
      described(
        t.keyof({ 'epoch-s': null, 'epoch-ms': null, 'epoch-ns': null, iso: null }),
        'How `field` writes the time; an ISO time without an offset is UTC.',
      ),
      'epoch-ms',
    ),
    granularity: withDefault(
      described(
        t.keyof({ minute: null, hour: null, day: null }),
        'The finest time field of the path; finer ones are `00`.',
      ),
      'hour',
    ),
    timeZone: withDefault(
      described(TimeZone, 'The IANA time zone (`UTC`, `Europe/Paris`) of the path’s date and time.'),
      'UTC',
    ),
  }),
  'Where the time of a record (which picks its file’s path) comes from.',
)

export const Rotation = described(
  t.type({
    maxBytes: withDefault(described(PositiveInteger, 'Bytes at which a file is closed.'), 64 * 1024 * 1024),
    maxRecords: withDefault(described(PositiveInteger, 'Records at which a file is closed.'), 100_000),
    maxSpanMs: withDefault(
      described(PositiveInteger, 'Largest span of record times in one file (no file spans more).'),
      60 * 60 * 1000,
    ),
    maxAgeMs: withDefault(
      described(
        t.union([PositiveInteger, t.null]),
        'Wall-clock age at which an open file is closed; null: none. Like every cut, recorded in the ' +
          'cuts topic before the upload, so a replay after a crash cuts the same files.',
      ),
      null,
    ),
    idleMs: withDefault(
      described(
        t.union([PositiveInteger, t.null]),
        'A partition that got no record for this long has its open files closed (recorded like ' +
          'every cut), so the last records of a topic that goes quiet are stored and committed; ' +
          'null: never (they wait for the next record).',
      ),
      60_000,
    ),
  }),
  'When the open files of a partition are closed and uploaded: the first rule that fires.',
)

/** A Parquet column name: letters, digits and `_`, not starting with a digit (every engine takes it unquoted). */
const ParquetColumnName = constrained(t.string, 'ParquetColumnName', {
  pattern: '^(?!_kafka_)[A-Za-z_][A-Za-z0-9_]{0,127}$',
  description:
    'Column name: 1 to 128 of `A-Z a-z 0-9 _`, not starting with a digit nor with `_kafka_` (the Kafka ' +
    'metadata columns).',
})

export const ParquetColumn = described(
  t.type({
    name: ParquetColumnName,
    path: withDefault(
      described(t.union([JsonPath, t.null]), 'JSON path of the value in the record; null: `$.<name>`.'),
      null,
    ),
    type: described(
      t.keyof({ string: null, int64: null, double: null, boolean: null, timestamp: null, json: null }),
      '`string`, `int64` (an integer number), `double` (any number), `boolean`, `timestamp` ' +
        '(INT64 TIMESTAMP(MILLIS, UTC), read as `timeFormat`), `json` (any value, stored as its JSON text).',
    ),
    nullable: withDefault(
      described(t.boolean, 'Whether a missing or null value is stored as null; false: such a record is bad.'),
      true,
    ),
    timeFormat: withDefault(
      described(
        t.keyof({ 'epoch-s': null, 'epoch-ms': null, 'epoch-ns': null, iso: null }),
        'How a `timestamp` column’s value writes the time (as `time.format`).',
      ),
      'epoch-ms',
    ),
  }),
  'One column of a Parquet file. A value of another type (say a string in an `int64` column) makes the ' +
    'record a bad record (`badRecordPolicy`).',
)
export type ParquetColumn = t.TypeOf<typeof ParquetColumn>

export const ParquetOptions = described(
  t.type({
    schema: withDefault(
      described(
        constrained(t.array(ParquetColumn), 'ParquetColumns(unique names, at most 1000)', {}, isColumnList),
        'The columns after the Kafka ones: `[{ "name": "user", "path": "$.user.id", "type": "string" }]` ' +
          '(at most 1000, names unique); empty: inferred from each file’s records (the rule is in the README, under Parquet).',
      ),
      [],
    ),
  }),
  'Parquet files (`format: "parquet"`): their columns. The codec is `compression`.',
)
export type ParquetOptions = t.TypeOf<typeof ParquetOptions>

function isColumnList(columns: readonly { readonly name: string }[]): boolean {
  return columns.length <= 1000 && new Set(columns.map((c) => c.name)).size === columns.length
}

/** The fields a user may set (PUT body); everything has a default. */
export const TopicConfigFields = described(
  t.type({
    sinks: withDefault(
      described(
        t.array(SinkSpec),
        'Where the files go: `[{ "id": "s3", "url": "s3://bucket/prefix" }]`, or a `file:///dir` URL. ' +
          'Empty: the cluster’s default sinks (the nodes’ `--sink`), which the master writes in.',
      ),
      [],
    ),
    pathTemplate: withDefault(
      described(
        NonEmptyString,
        'Path of a file under its sink: `{date}` `{hour}` `{minute}` `{yyyy}` `{MM}` `{dd}` `{HH}` ' +
          '`{mm}`, and record field values `{$.client}` (`unknown` when missing).',
      ),
      'dt={date}/hr={hour}',
    ),
    time: withDefault(TimeSource, defaultsOf(TimeSource)),
    rotation: withDefault(Rotation, defaultsOf(Rotation)),
    format: withDefault(
      described(
        t.keyof({ jsonl: null, lines: null, raw: null, parquet: null }),
        '`jsonl`: one JSON record per line (each value checked: one that is not JSON is a bad record, ' +
          'see `badRecordPolicy`; one on several lines is written on one); `lines` (`.txt`): each value ' +
          'as it is, one per line, not parsed (like Kafka Connect’s StringConverter; 1.3–2× as fast ' +
          'as `jsonl` on 1 KiB records): a value with a newline, or none (a tombstone), is a bad record; ' +
          '`raw`: each record as a 4-byte big-endian length and its ' +
          'bytes; `parquet`: one Parquet file (`.parquet`) of JSON records, columns from `parquet.schema` ' +
          'or inferred, plus the Kafka offset, partition, timestamp and key.',
      ),
      'jsonl',
    ),
    compression: withDefault(
      described(
        t.keyof({ gzip: null, zstd: null, snappy: null, none: null }),
        'Of every file (`.gz`, `.zst`); of a Parquet file, the codec of its pages (the file itself is ' +
          'not compressed again, and has no extra extension). `snappy`: Parquet only. `zstd` needs ' +
          'Node.js ≥ 22.15 on every node (zlib’s zstd); a node without it refuses the config with 400 ' +
          'and stops such archivers with an error event.',
      ),
      'gzip',
    ),
    parquet: withDefault(ParquetOptions, defaultsOf(ParquetOptions)),
    sortBy: withDefault(
      described(
        t.union([JsonPath, t.null]),
        'JSON path of the field to sort each file by (stable: numbers, then strings, then records ' +
          'without it); null: Kafka order.',
      ),
      null,
    ),
    maxMessagesInFlight: withDefault(
      described(PositiveInteger, 'Per-topic hint; the node-wide bound is the CLI’s.'),
      10_000,
    ),
    maxBytesInFlight: withDefault(
      described(PositiveInteger, 'Per-topic hint; the node-wide bound is the CLI’s.'),
      32 * 1024 * 1024,
    ),
    parallelism: withDefault(
      described(
        t.union([constrained(PositiveInteger, 'Parallelism(1..256)', { maximum: 256 }), t.literal('auto')]),
        'Archiver instances of this topic for each sink. `auto`: the scaler sizes it from the topic’s ' +
          'partitions and measured rate and lag (see `GET /scaling/config`, `instanceRecordsPerSec`), ' +
          'at most one per partition and per node, and places them on different nodes.',
      ),
      'auto',
    ),
    badRecordPolicy: withDefault(
      described(
        t.keyof({ dlq: null, skip: null, fail: null }),
        'A record that cannot be archived (not JSON, no time): `dlq` writes it to `dlqTopic` with ' +
          '`kdp-error-reason`, `kdp-source-topic`, `kdp-source-partition` and `kdp-source-offset` ' +
          'headers; `skip` counts and logs it; `fail` stops the archiver, which stays stopped until ' +
          'the config changes (no crash loop).',
      ),
      'dlq',
    ),
    dlqTopic: withDefault(
      described(t.union([KafkaTopicName, t.null]), 'Dead-letter topic; null: `<topic>.dlq`.'),
      null,
    ),
    paused: withDefault(
      described(t.boolean, 'Not archived while true; `POST /topics/:topic/pause` and `/resume` set it.'),
      false,
    ),
  }),
  'The fields a user sets. Every field is optional and takes its default; unknown fields, at any ' +
    'level, are refused.',
)
export type TopicConfigFields = t.TypeOf<typeof TopicConfigFields>

/** A stored topic configuration: the fields plus what the store adds. */
export const TopicConfig = described(
  t.intersection([
    t.type({
      version: described(
        t.literal(1),
        'Schema version of the record; a reader refuses versions it does not know.',
      ),
      topic: KafkaTopicName,
      revision: described(
        PositiveInteger,
        'Grows with every write of this topic’s config (a restart is a write).',
      ),
      updatedAt: Timestamp,
    }),
    TopicConfigFields,
  ]),
  'A stored config: every field (defaults filled in) plus what the store adds.',
)
export type TopicConfig = t.TypeOf<typeof TopicConfig>

/**
 * Decodes a user's config body (any subset of the fields; the rest take their defaults) or throws a
 * ValidationError with field paths. Unknown fields, at any level, are errors too: a typo must not
 * pass silently.
 */
export function decodeConfigFields(body: unknown): TopicConfigFields {
  const fields = decodeStrict(TopicConfigFields, body ?? {}, 'topic config')
  const errors = layoutErrors(fields)
  if (errors.length > 0) throw new ValidationError('topic config', errors)
  return fields
}

/** What the fields' codecs cannot see: combinations of format, compression and Parquet options. */
export function layoutErrors(
  fields: Pick<TopicConfigFields, 'format' | 'compression' | 'parquet'>,
): FieldError[] {
  const errors: FieldError[] = []
  if (fields.compression === 'snappy' && fields.format !== 'parquet')
    errors.push({
      path: 'compression',
      message: '`snappy` is for `format: "parquet"` only: use gzip, zstd or none',
    })
  if (fields.parquet.schema.length > 0 && fields.format !== 'parquet')
    errors.push({ path: 'parquet.schema', message: 'a Parquet schema needs `format: "parquet"`' })
  return errors
}

/**
 * Decodes a stored record; errors are returned, never thrown (a bad record must not crash a node).
 * Keys this version does not know are dropped, so that nothing unvalidated is served or rewritten.
 */
export function decodeStoredConfig(
  value: unknown,
): { ok: true; config: TopicConfig } | { ok: false; errors: FieldError[] } {
  const result = TopicConfig.decode(value)
  return isLeft(result)
    ? { ok: false, errors: fieldErrors(result.left) }
    : { ok: true, config: stripUnknown(TopicConfig, result.right) }
}

/** The user-settable fields of a stored config: every key the fields codec declares, no other. */
export function fieldsOf(config: TopicConfig): TopicConfigFields {
  return stripUnknown(TopicConfigFields, config)
}

/** Whether Kafka accepts `name` as a topic name. */
export function isValidTopicName(name: string): boolean {
  return KafkaTopicName.is(name)
}
