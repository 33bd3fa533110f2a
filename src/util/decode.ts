import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { DefaultedType, described } from './codecs.js'

export { DefaultedType, withDefault } from './codecs.js'

/** One reason a value did not decode, with the path of the offending field (`a.b.0.c`). */
export const FieldError = t.readonly(
  t.type({
    path: described(
      t.string,
      'Dotted path of the field (`rotation.maxBytes`, `sinks.0.url`); empty: the whole value.',
    ),
    message: t.string,
  }),
)
export type FieldError = t.TypeOf<typeof FieldError>

/** Field errors as one line: `path: message; path: message` (`(root)` for the value itself). */
export function describeFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')
}

/** Raised for input that does not decode; lists every bad field, not only the first. */
export class ValidationError extends Error {
  constructor(
    readonly what: string,
    readonly errors: readonly FieldError[],
  ) {
    super(`invalid ${what}: ${describeFieldErrors(errors)}`)
    this.name = 'ValidationError'
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing'
  try {
    const text = JSON.stringify(value)
    return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
  } catch {
    return String(value)
  }
}

/**
 * The codec that does the work of `type`: wrappers (a default, a refinement, readonly, exact)
 * validate their inner codec in their own context entry, so their inner codec's keys are field names
 * and its member indices are not.
 */
function underlying(type: t.Decoder<unknown, unknown>): t.Decoder<unknown, unknown> {
  if (type instanceof DefaultedType) return underlying(type.inner)
  if (type instanceof t.RefinementType || type instanceof t.ReadonlyType || type instanceof t.ExactType)
    return underlying(type.type)
  return type
}

/** Turns io-ts errors into field paths and readable reasons, one entry per path. */
export function fieldErrors(errors: t.Errors): FieldError[] {
  const byPath = new Map<string, FieldError>()
  for (const error of errors) {
    const keys: string[] = []
    error.context.forEach((entry, i) => {
      const parent = error.context[i - 1]
      if (i === 0 || !parent) return
      // Intersections and unions add their member index to the context; those are not field names.
      const structural = underlying(parent.type)
      if (structural instanceof t.IntersectionType || structural instanceof t.UnionType) return
      keys.push(entry.key)
    })
    const path = keys.join('.')
    if (byPath.has(path)) continue
    const expected = error.context[error.context.length - 1]?.type.name ?? 'a valid value'
    byPath.set(path, { path, message: error.message ?? `expected ${expected}, got ${describe(error.value)}` })
  }
  return [...byPath.values()]
}

/** Decodes `input` with `codec` or throws a ValidationError naming every bad field. */
export function decodeOrThrow<A, O>(codec: t.Type<A, O, unknown>, input: unknown, what: string): A {
  const result = codec.decode(input)
  if (isLeft(result)) throw new ValidationError(what, fieldErrors(result.left))
  return result.right
}

/** What `{}` decodes to: every field of an object codec at its default (throws if one has none). */
export function defaultsOf<A, O>(codec: t.Type<A, O, unknown>): A {
  return decodeOrThrow(codec, {}, `defaults of ${codec.name}`)
}

function isRecord(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The fields an object codec declares (an intersection's are its members'), or undefined. */
function propsOf(codec: t.Decoder<unknown, unknown>): Readonly<Record<string, t.Any>> | undefined {
  const c = underlying(codec)
  if (c instanceof t.InterfaceType || c instanceof t.PartialType) return c.props
  if (!(c instanceof t.IntersectionType)) return undefined
  const members: Array<t.Any> = c.types
  const all = members.map(propsOf)
  return all.every((p) => p !== undefined) ? Object.assign({}, ...all.reverse()) : undefined
}

const join = (path: string, key: string | number) => (path === '' ? String(key) : `${path}.${key}`)

/**
 * Walks `value` along `codec` and returns a copy without the keys the codec does not declare, at any
 * depth; each key dropped is reported to `unknown` (with its path) if given. A union is followed
 * into the first member that decodes the value; a value that decodes with no member has nothing to
 * strip, and its decode errors say why.
 */
function prune(codec: t.Any, value: unknown, path: string, unknown?: FieldError[]): unknown {
  const c = underlying(codec)
  const props = propsOf(c)
  if (props && isRecord(value)) {
    const kept: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      const prop = Object.hasOwn(props, key) ? props[key] : undefined
      if (prop) kept[key] = prune(prop, inner, join(path, key), unknown)
      else unknown?.push({ path: join(path, key), message: 'unknown field' })
    }
    return kept
  }
  if ((c instanceof t.ArrayType || c instanceof t.ReadonlyArrayType) && Array.isArray(value)) {
    const item: t.Any = c.type
    return value.map((inner, i) => prune(item, inner, join(path, i), unknown))
  }
  if (c instanceof t.DictionaryType && isRecord(value)) {
    const domain: t.Any = c.domain
    const codomain: t.Any = c.codomain
    const kept: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      if (domain.is(key)) kept[key] = prune(codomain, inner, join(path, key), unknown)
      else unknown?.push({ path: join(path, key), message: 'unknown field' })
    }
    return kept
  }
  if (c instanceof t.UnionType) {
    const members: Array<t.Any> = c.types
    const member = members.find((m) => isRight(m.decode(value)))
    return member ? prune(member, value, path, unknown) : value
  }
  return value
}

/** Every key of `input` that `codec` does not declare, at any depth, as `unknown field` errors. */
export function unknownFields(codec: t.Any, input: unknown): FieldError[] {
  const unknown: FieldError[] = []
  prune(codec, input, '', unknown)
  return unknown
}

/**
 * A copy of a decoded `value` holding only the keys `codec` declares, at any depth: what a boundary
 * that tolerates newer writers (a record in Kafka) keeps, so that nothing unvalidated is passed on.
 */
export function stripUnknown<A>(codec: t.Type<A, unknown, unknown>, value: A): A {
  // prune copies along the codec and keeps every declared key as decoded: still an A.
  return prune(codec, value, '') as A
}

/**
 * Decodes `input` with `codec` or throws a ValidationError listing every bad field and then every
 * key the codec does not declare, at any depth (`unknown field`): a typo must not pass silently.
 */
export function decodeStrict<A, O>(codec: t.Type<A, O, unknown>, input: unknown, what: string): A {
  const unknown = unknownFields(codec, input)
  const result = codec.decode(input)
  const invalid = isLeft(result) ? fieldErrors(result.left) : []
  if (isLeft(result) || unknown.length > 0) throw new ValidationError(what, [...invalid, ...unknown])
  return result.right
}
