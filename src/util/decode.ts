import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'

/** One reason a value did not decode, with the path of the offending field (`a.b.0.c`). */
export interface FieldError {
  readonly path: string
  readonly message: string
}

/** Raised for input that does not decode; lists every bad field, not only the first. */
export class ValidationError extends Error {
  constructor(
    readonly what: string,
    readonly errors: readonly FieldError[],
  ) {
    super(`invalid ${what}: ${errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`)
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

// Intersections and unions add their member index to the context; those are not field names.
const structuralTags = new Set(['IntersectionType', 'UnionType'])

function tagOf(type: t.Decoder<unknown, unknown>): string | undefined {
  // A defaulted codec validates with its inner codec in the same context: look through it.
  if (type instanceof DefaultedType) return tagOf(type.inner)
  const tag: unknown = (type as { _tag?: unknown })._tag
  return typeof tag === 'string' ? tag : undefined
}

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

/** Turns io-ts errors into field paths and readable reasons, one entry per path. */
export function fieldErrors(errors: t.Errors): FieldError[] {
  const byPath = new Map<string, FieldError>()
  for (const error of errors) {
    const keys: string[] = []
    error.context.forEach((entry, i) => {
      const parent = error.context[i - 1]
      if (i === 0 || !parent) return
      const parentTag = tagOf(parent.type)
      if (parentTag !== undefined && structuralTags.has(parentTag)) return
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
