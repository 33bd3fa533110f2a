import { isLeft } from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'

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
  const tag: unknown = (type as { _tag?: unknown })._tag
  return typeof tag === 'string' ? tag : undefined
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
