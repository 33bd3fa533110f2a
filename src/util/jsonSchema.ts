import { isRight } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ConstrainedType, type Constraints, DefaultedType, describedFrom, descriptionOf } from './codecs.js'

/**
 * JSON Schemas (draft 2020-12, the dialect of OpenAPI 3.1) derived from io-ts codecs, so that a shape
 * is written once, as a codec, and its decoder, its TypeScript type and its documentation follow.
 * Why not a schema-first library (TypeBox, zod's toJSONSchema): it would replace every decoder and
 * the error paths and messages clients and tests rely on, to save this one file; the constraints io-ts
 * cannot show are carried by `constrained`, `described` and `withDefault` (codecs.ts).
 */

/** A JSON value. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }
/** A JSON Schema object. */
export type JsonSchema = { readonly [key: string]: Json }

/**
 * `input`: what the decoder accepts (a field with a default may be missing). `output`: what a decoded
 * value holds once encoded (every field with a default is present, so it is required).
 */
export type SchemaMode = 'input' | 'output'

export interface SchemaOptions {
  /** `input` unless told. */
  readonly mode?: SchemaMode
  /** A `$ref` schema to use for `codec`, or undefined to inline it. Never asked for the root codec. */
  readonly ref?: (codec: t.Any, mode: SchemaMode) => JsonSchema | undefined
}

type Mutable = { [key: string]: Json }

function isObject(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `value` as JSON (a default, a literal), or an error naming the codec it came from. */
function asJson(value: unknown, what: string): Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (Array.isArray(value)) return value.map((item) => asJson(item, what))
  if (isObject(value)) {
    const out: Mutable = {}
    for (const [key, inner] of Object.entries(value)) if (inner !== undefined) out[key] = asJson(inner, what)
    return out
  }
  throw new Error(`${what}: ${String(value)} is not JSON`)
}

function jsonType(value: Json): string {
  if (value === null) return 'null'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

/** Adds a refinement's keywords to its base's schema; where both set a bound, the narrower wins. */
function refine(base: JsonSchema, constraints: Constraints, name: string): JsonSchema {
  const out: Mutable = { ...base }
  const narrower = (key: keyof Constraints, pick: (a: number, b: number) => number, value: number) => {
    const current = out[key]
    out[key] = typeof current === 'number' ? pick(current, value) : value
  }
  for (const [key, value] of Object.entries(constraints)) {
    if (value === undefined) continue
    if (key === 'type') {
      if (base.type !== 'number' && base.type !== 'integer')
        throw new Error(`${name}: integer of a non-number`)
      out.type = 'integer'
    } else if (key === 'minimum' || key === 'minLength') narrower(key, Math.max, value)
    else if (key === 'maximum' || key === 'maxLength') narrower(key, Math.min, value)
    else if (key === 'pattern' && typeof base.pattern === 'string') {
      // Two patterns: both must match.
      out.allOf = [...(Array.isArray(base.allOf) ? base.allOf : []), { pattern: value }]
    } else out[key] = value
  }
  return out
}

const closedObjectKeys = new Set(['type', 'properties', 'required', 'additionalProperties'])

function isClosedObject(schema: JsonSchema): schema is JsonSchema & { properties: JsonSchema } {
  return (
    schema.type === 'object' &&
    schema.additionalProperties === false &&
    isObject(schema.properties) &&
    Object.keys(schema).every((key) => closedObjectKeys.has(key))
  )
}

function objectSchema(properties: Mutable, required: readonly string[]): JsonSchema {
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  }
}

function isMissingAllowed(codec: t.Any, mode: SchemaMode): boolean {
  // input: the decoder accepts a missing field (a default, `| undefined`); output: the value may be undefined.
  return mode === 'input' ? isRight(codec.decode(undefined)) : codec.is(undefined)
}

/**
 * The JSON Schema of `codec`. Objects are closed (`additionalProperties: false`): the schema says what
 * `decodeStrict` accepts, and what a value decoded at a boundary holds once `stripUnknown` has run.
 * A refinement must carry its constraints (`constrained`); a plain `t.refinement` or brand cannot be
 * looked into, and is refused rather than documented as its base type.
 */
export function toJsonSchema(codec: t.Any, options: SchemaOptions = {}): JsonSchema {
  const mode = options.mode ?? 'input'

  const convert = (c: t.Any, root = false): JsonSchema => {
    const description = descriptionOf(c)
    if (!root) {
      const direct = options.ref?.(c, mode)
      if (direct) return direct
      const base = describedFrom(c)
      const viaBase = base && options.ref?.(base, mode)
      if (viaBase) return { ...viaBase, ...(description === undefined ? {} : { description }) }
    }
    const schema = structure(c)
    if (description === undefined) return schema
    const { description: _own, ...rest } = schema
    return { description, ...rest }
  }

  const properties = (props: t.Props, required: (codec: t.Any) => boolean) => {
    const out: Mutable = {}
    const names: string[] = []
    for (const [name, prop] of Object.entries(props)) {
      out[name] = convert(prop)
      if (required(prop)) names.push(name)
    }
    return objectSchema(out, names)
  }

  const intersection = (c: t.IntersectionType<t.Any[]>): JsonSchema => {
    const members = c.types.map((member) => structure(member))
    if (members.every(isClosedObject)) {
      const merged: Mutable = {}
      const required = new Set<string>()
      for (const member of members) {
        for (const [name, schema] of Object.entries(member.properties))
          merged[name] = name in merged ? { allOf: [merged[name] ?? {}, schema] } : schema
        if (Array.isArray(member.required))
          for (const name of member.required) if (typeof name === 'string') required.add(name)
      }
      return objectSchema(merged, [...required])
    }
    if (members.some((member) => member.type === 'object'))
      throw new Error(`${c.name}: only objects, or only non-objects, can be intersected`)
    return { allOf: members }
  }

  const union = (c: t.UnionType<t.Any[]>): JsonSchema => {
    // `X | undefined` is an optional field: the object's `required` says so, not the schema.
    const members = c.types
      .filter((m) => !(m instanceof t.UndefinedType || m instanceof t.VoidType))
      .map((m) => convert(m))
    const [only] = members
    if (members.length === 1 && only) return only
    const consts = members.map((m) => m.const)
    if (members.every((m) => 'const' in m && Object.keys(m).length <= 2)) {
      const types = new Set(consts.map((v) => jsonType(v ?? null)))
      const [type] = types
      return { ...(types.size === 1 && type ? { type } : {}), enum: consts.map((v) => v ?? null) }
    }
    return { anyOf: members }
  }

  const structure = (c: t.Any): JsonSchema => {
    if (c instanceof DefaultedType) {
      return { ...convert(c.inner), default: asJson(c.inner.encode(c.fallback), `default of ${c.name}`) }
    }
    if (c instanceof ConstrainedType) return refine(convert(c.type), c.constraints, c.name)
    if (c instanceof t.RefinementType) {
      if (c === t.Int || c === t.Integer) return { type: 'integer' }
      throw new Error(`${c.name}: a refinement without a JSON Schema; make it with constrained()`)
    }
    if (c instanceof t.InterfaceType) return properties(c.props, (p) => !isMissingAllowed(p, mode))
    if (c instanceof t.PartialType) return properties(c.props, () => false)
    if (c instanceof t.ExactType || c instanceof t.ReadonlyType) return convert(c.type)
    if (c instanceof t.IntersectionType) return intersection(c)
    if (c instanceof t.UnionType) return union(c)
    if (c instanceof t.KeyofType) return { type: 'string', enum: Object.keys(c.keys) }
    if (c instanceof t.LiteralType) {
      const value = asJson(c.value, c.name)
      return { type: jsonType(value), const: value }
    }
    if (c instanceof t.ArrayType || c instanceof t.ReadonlyArrayType)
      return { type: 'array', items: convert(c.type) }
    if (c instanceof t.DictionaryType) {
      const values = convert(c.codomain)
      if (c.domain instanceof t.StringType) return { type: 'object', additionalProperties: values }
      if (c.domain instanceof t.KeyofType) {
        const keys = Object.keys(c.domain.keys)
        return objectSchema(
          Object.fromEntries(keys.map((key) => [key, values])),
          isMissingAllowed(c.codomain, mode) ? [] : keys,
        )
      }
      return { type: 'object', propertyNames: convert(c.domain), additionalProperties: values }
    }
    if (c instanceof t.StringType) return { type: 'string' }
    if (c instanceof t.NumberType) return { type: 'number' }
    if (c instanceof t.BooleanType) return { type: 'boolean' }
    if (c instanceof t.NullType) return { type: 'null' }
    if (c instanceof t.UnknownType) return {}
    throw new Error(`${c.name}: no JSON Schema for this kind of codec`)
  }

  return convert(codec, true)
}

/** A named codec of `components.schemas`, and the mode its schema is written in. */
export interface Component {
  readonly codec: t.Any
  readonly mode: SchemaMode
}

/**
 * The JSON Schemas of named codecs, for an OpenAPI `components.schemas`. A component met inside
 * another is a `$ref` where its schema holds in the mode it is met in (its own mode, or a codec whose
 * schema is the same in both modes); elsewhere it is inlined, so no `$ref` ever says more or less
 * than the codec.
 */
export function componentSchemas<N extends string>(
  components: Readonly<Record<N, Component>>,
  refPrefix = '#/components/schemas/',
): Record<N, JsonSchema> {
  const entries: Array<[string, Component]> = Object.entries(components)
  const named = new Map<t.Any, { name: string; mode: SchemaMode }>()
  for (const [name, { codec, mode }] of entries) {
    const other = named.get(codec)
    if (other) throw new Error(`one codec is two components: ${other.name} and ${name}`)
    named.set(codec, { name, mode })
  }
  const invariant = new Map<t.Any, boolean>()
  const sameInBothModes = (codec: t.Any): boolean => {
    let same = invariant.get(codec)
    if (same === undefined) {
      const input = JSON.stringify(toJsonSchema(codec, { mode: 'input' }))
      same = input === JSON.stringify(toJsonSchema(codec, { mode: 'output' }))
      invariant.set(codec, same)
    }
    return same
  }
  const ref = (codec: t.Any, mode: SchemaMode): JsonSchema | undefined => {
    const component = named.get(codec)
    if (!component || (component.mode !== mode && !sameInBothModes(codec))) return undefined
    return { $ref: `${refPrefix}${component.name}` }
  }
  const schemas: Record<string, JsonSchema> = {}
  for (const [name, { codec, mode }] of entries) schemas[name] = toJsonSchema(codec, { mode, ref })
  return schemas as Record<N, JsonSchema>
}
