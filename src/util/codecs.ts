import * as t from 'io-ts'

/**
 * Codec building blocks that carry what a JSON Schema needs and io-ts cannot show: a refinement's
 * constraint, a description, a default. `jsonSchema.ts` reads them; the decoders enforce them. Each
 * constraint is written once, as JSON Schema keywords, and the decoder's check is compiled from them.
 */

/** A codec whose missing (undefined) value decodes to a default. */
export class DefaultedType<C extends t.Mixed> extends t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> {
  constructor(
    readonly inner: C,
    readonly fallback: t.TypeOf<C>,
  ) {
    super(
      inner.name,
      inner.is,
      (input, context) => (input === undefined ? t.success(fallback) : inner.validate(input, context)),
      inner.encode,
    )
  }
}

/** `codec`, with `fallback` when the field is missing. */
export function withDefault<C extends t.Mixed>(codec: C, fallback: t.TypeOf<C>): DefaultedType<C> {
  return new DefaultedType(codec, fallback)
}

const descriptionKey = Symbol('kdp.description')

interface Described {
  readonly [descriptionKey]?: string
}

/**
 * `codec` with a description (CommonMark) for the JSON Schema, and so the OpenAPI document and the
 * README. The result is a new object whose prototype is `codec`: it decodes exactly like it (io-ts
 * codecs keep their logic in fields and closures), keeps its class, `_tag` and `props`, and a codec
 * shared by many fields (`PositiveInteger`) can be described differently at each use.
 */
export function described<C extends t.Any>(codec: C, description: string): C {
  const copy: C = Object.create(codec)
  Object.defineProperty(copy, descriptionKey, { value: description, enumerable: false })
  return copy
}

/** The description `described` gave this codec (or the codec it was made from), if any. */
export function descriptionOf(codec: t.Any): string | undefined {
  return (codec as Described)[descriptionKey]
}

/** The codec `described` made `codec` from, or undefined if `codec` was not made by `described`. */
export function describedFrom(codec: t.Any): t.Any | undefined {
  if (!Object.hasOwn(codec, descriptionKey)) return undefined
  const base: unknown = Object.getPrototypeOf(codec)
  return base instanceof t.Type ? base : undefined
}

/**
 * The JSON Schema keywords a `constrained` codec may carry. Every one but `description` is also
 * checked by the decoder, so the document cannot promise what the decoder does not enforce.
 */
export interface Constraints {
  readonly type?: 'integer'
  readonly minimum?: number
  readonly maximum?: number
  /** An ECMA-262 regular expression (JSON Schema's dialect), tested with the `u` flag as Ajv does. */
  readonly pattern?: string
  /** In code points, as JSON Schema counts. */
  readonly minLength?: number
  readonly maxLength?: number
  /** RFC 3339 date-time (`2025-01-01T00:00:00.000Z`), what `toISOString` writes. */
  readonly format?: 'date-time'
  /** What the value means, and what `check` adds that no keyword expresses. */
  readonly description?: string
}

// RFC 3339 section 5.6: `T` and `Z` in either case, or a space for the `T` (as its note allows, and
// JSON Schema validators accept). Leap seconds are refused: a Date cannot hold them.
const dateTime = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/

function isDateTime(text: string): boolean {
  const match = dateTime.exec(text)
  if (!match) return false
  const [year, month, day, hour, minute, second, offsetHours = 0, offsetMinutes = 0] = match
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)))
  if (year === undefined || month === undefined || day === undefined) return false
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0
  return (
    day >= 1 &&
    day <= days &&
    (hour ?? 99) <= 23 &&
    (minute ?? 99) <= 59 &&
    (second ?? 99) <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59
  )
}

function compile(constraints: Constraints): (value: unknown) => boolean {
  const checks: Array<(value: unknown) => boolean> = []
  const { type, minimum, maximum, pattern, minLength, maxLength, format } = constraints
  if (type === 'integer') checks.push((v) => Number.isInteger(v))
  if (minimum !== undefined) checks.push((v) => typeof v !== 'number' || v >= minimum)
  if (maximum !== undefined) checks.push((v) => typeof v !== 'number' || v <= maximum)
  if (pattern !== undefined) {
    const regex = new RegExp(pattern, 'u')
    checks.push((v) => typeof v !== 'string' || regex.test(v))
  }
  const length = (v: string) => [...v].length
  if (minLength !== undefined) checks.push((v) => typeof v !== 'string' || length(v) >= minLength)
  if (maxLength !== undefined) checks.push((v) => typeof v !== 'string' || length(v) <= maxLength)
  if (format === 'date-time') checks.push((v) => typeof v !== 'string' || isDateTime(v))
  return (value) => checks.every((check) => check(value))
}

/** A refinement that carries its constraints as JSON Schema keywords (see `constrained`). */
export class ConstrainedType<C extends t.Any> extends t.RefinementType<
  C,
  t.TypeOf<C>,
  t.OutputOf<C>,
  t.InputOf<C>
> {
  constructor(
    base: C,
    name: string,
    readonly constraints: Constraints,
    check?: (value: t.TypeOf<C>) => boolean,
  ) {
    const keywords = compile(constraints)
    const predicate = (value: t.TypeOf<C>): boolean =>
      keywords(value) && (check === undefined || check(value))
    const refined = t.refinement(base, predicate, name)
    super(name, refined.is, refined.validate, refined.encode, base, predicate)
  }
}

/**
 * `base` refined by JSON Schema `constraints`, which the decoder checks and the JSON Schema shows.
 * `check` is for a rule no keyword can express (an IANA time zone, the sinks' URL rules): say what it
 * checks in `constraints.description`. `name` appears in error messages (`expected <name>, got ...`).
 */
export function constrained<C extends t.Any>(
  base: C,
  name: string,
  constraints: Constraints,
  check?: (value: t.TypeOf<C>) => boolean,
): ConstrainedType<C> {
  return new ConstrainedType(base, name, constraints, check)
}

/** Any integer. */
export const Integer = constrained(t.number, 'Integer', { type: 'integer' })
/** 0, 1, 2, ... */
export const NonNegativeInteger = constrained(t.number, 'NonNegativeInteger', { type: 'integer', minimum: 0 })
/** 1, 2, 3, ... */
export const PositiveInteger = constrained(t.number, 'PositiveInteger', { type: 'integer', minimum: 1 })
/** An RFC 3339 time, as `Date.toISOString` writes it. */
export const Timestamp = constrained(t.string, 'Timestamp', { format: 'date-time' })
