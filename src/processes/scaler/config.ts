import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { constrained, described, NonNegativeInteger, PositiveInteger, Timestamp } from '../../util/codecs.js'
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
 * The scaler's config, defined once: these codecs decode `PUT /scaling/config` and the record in the
 * config topic, type it, and give its JSON Schema in the OpenAPI document. It lives in the config
 * topic under a key of its own (`scalerConfigKey`), which no topic can have, so the topic-config
 * store and this one never read each other's records.
 */

/**
 * The key of the scaler's record in the config topic. `:` is not allowed in Kafka topic names, so no
 * topic config can ever have this key (`__scaler` could: it is a valid topic name).
 */
export const scalerConfigKey = 'kdp:scaler'

const Percent = constrained(t.number, 'Percent(>0)', { minimum: 0.1, maximum: 100_000 })
const Interval = constrained(PositiveInteger, 'IntervalMs(200..3600000)', {
  minimum: 200,
  maximum: 3_600_000,
})
const Count = (max: number) => constrained(PositiveInteger, `Count(1..${max})`, { maximum: max })

export const ScalerConfigFields = described(
  t.type({
    mode: withDefault(
      described(
        t.keyof({ auto: null, recommend: null, off: null }),
        '`auto`: act on the AWS Auto Scaling group when the nodes run with `--autoscaling-group` ' +
          '(recommend only without one); `recommend`: decide and serve `GET /scaling`, never call AWS ' +
          '(Kubernetes: KEDA or an HPA acts on it); `off`: no cluster-size decisions (topic ' +
          'parallelism `auto` is still sized).',
      ),
      'auto',
    ),
    intervalMs: withDefault(described(Interval, 'How often the scaler samples the lag and decides.'), 15_000),
    minNodes: withDefault(
      described(
        Count(10_000),
        'Fewest nodes, at most `maxNodes`; the group’s MinSize also applies (the larger wins).',
      ),
      1,
    ),
    maxNodes: withDefault(
      described(Count(10_000), 'Most nodes; the group’s MaxSize also applies (the smaller wins).'),
      10,
    ),
    targetLag: withDefault(
      described(
        NonNegativeInteger,
        'Unread records of one topic × sink above which it counts as behind (the time-to-drain rule ' +
          'applies above it).',
      ),
      10_000,
    ),
    calmLag: withDefault(
      described(
        NonNegativeInteger,
        'Unread records of one topic × sink at or below which it counts as calm; a scale-in needs ' +
          'every topic calm. At most `targetLag`.',
      ),
      1_000,
    ),
    growingIntervals: withDefault(
      described(
        Count(1_000),
        'Scale out when a topic’s lag (above `calmLag`) grew in each of this many intervals in a row.',
      ),
      3,
    ),
    maxDrainMs: withDefault(
      described(
        PositiveInteger,
        'Scale out when a topic above `targetLag` would take longer than this to drain at the rates ' +
          'measured (or does not drain at all).',
      ),
      300_000,
    ),
    calmIntervals: withDefault(
      described(Count(10_000), 'Scale in only after this many calm intervals in a row.'),
      10,
    ),
    cpuScaleOutPercent: withDefault(
      described(
        Percent,
        'Scale out when the archiving nodes’ mean CPU (100: one core) stayed above this for ' +
          '`growingIntervals`.',
      ),
      80,
    ),
    cpuScaleInPercent: withDefault(
      described(
        Percent,
        'Scale in only if the mean CPU, spread over one node fewer, stays below this. Below ' +
          '`cpuScaleOutPercent`.',
      ),
      50,
    ),
    scaleOutCooldownMs: withDefault(
      described(NonNegativeInteger, 'After a scale-out, no other scale-out for this long.'),
      120_000,
    ),
    scaleInCooldownMs: withDefault(
      described(NonNegativeInteger, 'After any scaling action, no scale-in for this long.'),
      300_000,
    ),
    maxStepOut: withDefault(described(Count(1_000), 'Nodes added by one scale-out at most.'), 2),
    drainTimeoutMs: withDefault(
      described(
        PositiveInteger,
        'How long a node may take to drain (finish its uploads and hand its archivers over); past it ' +
          'the drain is cancelled and the node keeps running.',
      ),
      120_000,
    ),
    joinTimeoutMs: withDefault(
      described(
        PositiveInteger,
        'How long new capacity may take to join before the scaler decides again without it; once ' +
          'the lag is calm, an instance from which no node joined by then is terminated (no drain).',
      ),
      300_000,
    ),
    instanceRecordsPerSec: withDefault(
      described(
        PositiveInteger,
        'Records per second one archiver instance is sized for: parallelism `auto` runs ' +
          '⌈(rate in + lag / maxDrain) / this⌉ instances of a topic (at most its partitions and the nodes).',
      ),
      5_000,
    ),
    errorBackoffMaxMs: withDefault(
      described(
        PositiveInteger,
        'Longest wait after failed AWS calls (it doubles from `intervalMs` with each failure).',
      ),
      300_000,
    ),
  }),
  'The scaler’s settings. Every field is optional and takes its default; unknown fields are refused.',
)
export type ScalerConfigFields = t.TypeOf<typeof ScalerConfigFields>

/** The stored scaler config: the fields plus what the store adds. */
export const ScalerConfig = described(
  t.intersection([
    t.type({
      version: described(t.literal(1), 'Schema version of the record.'),
      revision: described(NonNegativeInteger, 'Grows with every write; 0: never written (the defaults).'),
      updatedAt: described(t.union([Timestamp, t.null]), 'When it was written; null: never.'),
    }),
    ScalerConfigFields,
  ]),
  'The scaler config in effect: every field (defaults filled in) plus what the store adds.',
)
export type ScalerConfig = t.TypeOf<typeof ScalerConfig>

/** Rules between fields that no single codec can state; each names the field it blames. */
function crossFieldErrors(c: ScalerConfigFields): FieldError[] {
  const errors: FieldError[] = []
  if (c.minNodes > c.maxNodes)
    errors.push({ path: 'minNodes', message: `must be at most maxNodes (${c.maxNodes}), got ${c.minNodes}` })
  if (c.calmLag > c.targetLag)
    errors.push({ path: 'calmLag', message: `must be at most targetLag (${c.targetLag}), got ${c.calmLag}` })
  if (c.cpuScaleInPercent >= c.cpuScaleOutPercent) {
    errors.push({
      path: 'cpuScaleInPercent',
      message: `must be below cpuScaleOutPercent (${c.cpuScaleOutPercent}), got ${c.cpuScaleInPercent}`,
    })
  }
  return errors
}

/**
 * Decodes a `PUT /scaling/config` body (any subset of the fields) or throws a ValidationError naming
 * every bad field: wrong values, unknown fields, and rules between fields (min ≤ max, ...).
 */
export function decodeScalerConfigFields(body: unknown): ScalerConfigFields {
  const fields = decodeStrict(ScalerConfigFields, body ?? {}, 'scaler config')
  const errors = crossFieldErrors(fields)
  if (errors.length > 0) throw new ValidationError('scaler config', errors)
  return fields
}

/** The config in effect when none was ever written. */
export const defaultScalerConfig: ScalerConfig = {
  version: 1,
  revision: 0,
  updatedAt: null,
  ...defaultsOf(ScalerConfigFields),
}

/** Decodes a stored record; errors are returned, never thrown (a bad record must not crash a node). */
export function decodeStoredScalerConfig(
  value: unknown,
): { ok: true; config: ScalerConfig } | { ok: false; errors: FieldError[] } {
  const result = ScalerConfig.decode(value)
  if (isLeft(result)) return { ok: false, errors: fieldErrors(result.left) }
  const errors = crossFieldErrors(result.right)
  return errors.length > 0
    ? { ok: false, errors }
    : { ok: true, config: stripUnknown(ScalerConfig, result.right) }
}

/** The user-settable fields of a stored config. */
export function scalerFieldsOf(config: ScalerConfig): ScalerConfigFields {
  return stripUnknown(ScalerConfigFields, config)
}
