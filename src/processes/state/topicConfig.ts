import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { sinkUrlProblem } from '../../sinks/location.js'
import {
  decodeOrThrow,
  type FieldError,
  fieldErrors,
  ValidationError,
  withDefault,
} from '../../util/decode.js'

const positiveInt = t.refinement(t.number, (n) => Number.isInteger(n) && n > 0, 'PositiveInteger')
const nonEmpty = t.refinement(t.string, (s) => s.trim().length > 0, 'NonEmptyString')
const kafkaTopicName = t.refinement(
  t.string,
  (s) => /^[A-Za-z0-9._-]{1,249}$/.test(s) && s !== '.' && s !== '..',
  'KafkaTopicName',
)
/** `s3://bucket/prefix` or `file:///absolute/dir`. */
export const SinkUrl = t.refinement(
  t.string,
  // The same rules the sinks apply when they open: a bad URL is refused when the config is saved.
  (s) => sinkUrlProblem(s) === undefined,
  'SinkUrl(s3://bucket/prefix | file:///dir)',
)
const jsonPath = t.refinement(
  t.string,
  (s) => /^\$(\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])+$/.test(s),
  'JsonPath($.a.b)',
)
const timeZone = t.refinement(
  t.string,
  (s) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: s })
      return true
    } catch {
      return false
    }
  },
  'IanaTimeZone',
)

export const SinkSpec = t.type({
  id: t.refinement(t.string, (s) => /^[a-z0-9-]{1,40}$/.test(s), 'SinkId([a-z0-9-])'),
  url: SinkUrl,
})
export type SinkSpec = t.TypeOf<typeof SinkSpec>

export const TimeSource = t.type({
  /** JSON path of the record field holding the time; absent: the Kafka record timestamp. */
  field: withDefault(t.union([jsonPath, t.null]), null),
  format: withDefault(
    t.keyof({ 'epoch-s': null, 'epoch-ms': null, 'epoch-ns': null, iso: null }),
    'epoch-ms',
  ),
  granularity: withDefault(t.keyof({ minute: null, hour: null, day: null }), 'hour'),
  timeZone: withDefault(timeZone, 'UTC'),
})

export const Rotation = t.type({
  maxBytes: withDefault(positiveInt, 64 * 1024 * 1024),
  maxRecords: withDefault(positiveInt, 100_000),
  /** Largest span of record times in one file. */
  maxSpanMs: withDefault(positiveInt, 60 * 60 * 1000),
  /** Wall-clock age of an open file; breaks exactly-once file contents (documented). */
  maxAgeMs: withDefault(t.union([positiveInt, t.null]), null),
})

/** The fields a user may set (PUT body); everything has a default. */
export const TopicConfigFields = t.type({
  sinks: withDefault(t.array(SinkSpec), []),
  /** Output path: `{date}` `{hour}` `{minute}` `{yyyy}` `{MM}` `{dd}` `{HH}` `{mm}` and `{$.field}` values. */
  pathTemplate: withDefault(nonEmpty, 'dt={date}/hr={hour}'),
  time: withDefault(TimeSource, { field: null, format: 'epoch-ms', granularity: 'hour', timeZone: 'UTC' }),
  rotation: withDefault(Rotation, {
    maxBytes: 64 * 1024 * 1024,
    maxRecords: 100_000,
    maxSpanMs: 3_600_000,
    maxAgeMs: null,
  }),
  format: withDefault(t.keyof({ jsonl: null, raw: null }), 'jsonl'),
  compression: withDefault(t.keyof({ gzip: null, none: null }), 'gzip'),
  sortBy: withDefault(t.union([jsonPath, t.null]), null),
  maxMessagesInFlight: withDefault(positiveInt, 10_000),
  maxBytesInFlight: withDefault(positiveInt, 32 * 1024 * 1024),
  parallelism: withDefault(
    t.refinement(positiveInt, (n) => n <= 256, 'Parallelism(1..256)'),
    1,
  ),
  badRecordPolicy: withDefault(t.keyof({ dlq: null, skip: null, fail: null }), 'dlq'),
  /** Dead-letter topic; null: `<topic>.dlq`. */
  dlqTopic: withDefault(t.union([kafkaTopicName, t.null]), null),
  paused: withDefault(t.boolean, false),
})
export type TopicConfigFields = t.TypeOf<typeof TopicConfigFields>

/** A stored topic configuration: the fields plus what the store adds. */
export const TopicConfig = t.intersection([
  t.type({
    /** Schema version of the record; a reader refuses versions it does not know. */
    version: t.literal(1),
    topic: kafkaTopicName,
    /** Grows with every write of this topic's config (also a restart request). */
    revision: t.number,
    updatedAt: t.string,
  }),
  TopicConfigFields,
])
export type TopicConfig = t.TypeOf<typeof TopicConfig>

// Allowed keys at every level of a config body; anything else is reported as an unknown field.
const knownKeys: Readonly<Record<string, ReadonlySet<string>>> = {
  '': new Set(Object.keys(TopicConfigFields.props)),
  time: new Set(Object.keys(TimeSource.props)),
  rotation: new Set(Object.keys(Rotation.props)),
  'sinks[]': new Set(Object.keys(SinkSpec.props)),
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function unknownFields(body: unknown): FieldError[] {
  if (!isObject(body)) return []
  const errors: FieldError[] = []
  const check = (value: unknown, allowed: ReadonlySet<string> | undefined, path: string): void => {
    if (!isObject(value) || !allowed) return
    for (const key of Object.keys(value)) {
      if (!allowed.has(key)) errors.push({ path: path ? `${path}.${key}` : key, message: 'unknown field' })
    }
  }
  check(body, knownKeys[''], '')
  check(body.time, knownKeys.time, 'time')
  check(body.rotation, knownKeys.rotation, 'rotation')
  if (Array.isArray(body.sinks))
    for (const [i, sink] of body.sinks.entries()) check(sink, knownKeys['sinks[]'], `sinks.${i}`)
  return errors
}

/**
 * Decodes a user's config body (any subset of the fields; the rest take their defaults) or throws a
 * ValidationError with field paths. Unknown fields, at any level, are errors too: a typo must not
 * pass silently.
 */
export function decodeConfigFields(body: unknown): TopicConfigFields {
  const unknown = unknownFields(body)
  let fields: TopicConfigFields | undefined
  let invalid: FieldError[] = []
  try {
    fields = decodeOrThrow(TopicConfigFields, body ?? {}, 'topic config')
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    invalid = [...error.errors]
  }
  if (invalid.length > 0 || unknown.length > 0 || !fields)
    throw new ValidationError('topic config', [...invalid, ...unknown])
  return stripUnknown(fields)
}

/** Keeps only the known keys (nested ones included), so nothing unvalidated is stored. */
function stripUnknown(fields: TopicConfigFields): TopicConfigFields {
  return decodeOrThrow(t.exact(TopicConfigFields), fields, 'topic config')
}

/** Decodes a stored record; errors are returned, never thrown (a bad record must not crash a node). */
export function decodeStoredConfig(
  value: unknown,
): { ok: true; config: TopicConfig } | { ok: false; errors: FieldError[] } {
  const result = TopicConfig.decode(value)
  return isLeft(result) ? { ok: false, errors: fieldErrors(result.left) } : { ok: true, config: result.right }
}

export function isValidTopicName(name: string): boolean {
  return kafkaTopicName.is(name)
}
