import { isRight } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { constrained, described, descriptionOf, PositiveInteger, Timestamp } from '../../src/util/codecs.js'
import { decodeOrThrow, withDefault } from '../../src/util/decode.js'
import { componentSchemas, toJsonSchema } from '../../src/util/jsonSchema.js'
import { newAjv, schemaErrors } from '../helpers/ajv.js'

const ajv = newAjv()
const output = { mode: 'output' } as const

describe('toJsonSchema of each kind of codec', () => {
  it('maps the primitives', () => {
    expect(toJsonSchema(t.string)).toEqual({ type: 'string' })
    expect(toJsonSchema(t.number)).toEqual({ type: 'number' })
    expect(toJsonSchema(t.boolean)).toEqual({ type: 'boolean' })
    expect(toJsonSchema(t.null)).toEqual({ type: 'null' })
    expect(toJsonSchema(t.unknown)).toEqual({})
    expect(toJsonSchema(t.Int)).toEqual({ type: 'integer' })
  })

  it('maps literals to const and keyof to a string enum', () => {
    expect(toJsonSchema(t.literal(1))).toEqual({ type: 'integer', const: 1 })
    expect(toJsonSchema(t.literal('ok'))).toEqual({ type: 'string', const: 'ok' })
    expect(toJsonSchema(t.keyof({ a: null, b: null }))).toEqual({ type: 'string', enum: ['a', 'b'] })
  })

  it('maps a union of literals to an enum, any other union to anyOf', () => {
    expect(toJsonSchema(t.union([t.literal('a'), t.literal('b')]))).toEqual({
      type: 'string',
      enum: ['a', 'b'],
    })
    expect(toJsonSchema(t.union([t.literal('a'), t.literal(2)]))).toEqual({ enum: ['a', 2] })
    expect(toJsonSchema(t.union([t.string, t.null]))).toEqual({
      anyOf: [{ type: 'string' }, { type: 'null' }],
    })
  })

  it('maps arrays, readonly arrays and records', () => {
    expect(toJsonSchema(t.array(t.string))).toEqual({ type: 'array', items: { type: 'string' } })
    expect(toJsonSchema(t.readonlyArray(t.number))).toEqual({ type: 'array', items: { type: 'number' } })
    expect(toJsonSchema(t.record(t.string, t.number))).toEqual({
      type: 'object',
      additionalProperties: { type: 'number' },
    })
    expect(toJsonSchema(t.record(t.keyof({ a: null, b: null }), t.boolean))).toEqual({
      type: 'object',
      properties: { a: { type: 'boolean' }, b: { type: 'boolean' } },
      required: ['a', 'b'],
      additionalProperties: false,
    })
  })

  it('maps t.type to a closed object whose required fields are those the decoder needs', () => {
    const codec = t.type({ a: t.string, b: t.union([t.number, t.undefined]), c: withDefault(t.number, 3) })
    expect(toJsonSchema(codec)).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' }, c: { type: 'number', default: 3 } },
      required: ['a'],
      additionalProperties: false,
    })
    // A decoded value always has its defaulted fields.
    expect(toJsonSchema(codec, output).required).toEqual(['a', 'c'])
  })

  it('maps t.partial to an object without required fields', () => {
    expect(toJsonSchema(t.partial({ a: t.string }), output)).toEqual({
      type: 'object',
      properties: { a: { type: 'string' } },
      additionalProperties: false,
    })
  })

  it('flattens an intersection of objects into one closed object', () => {
    const codec = t.intersection([t.type({ a: t.string }), t.partial({ b: t.number }), t.type({ c: t.null })])
    expect(toJsonSchema(codec)).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' }, c: { type: 'null' } },
      required: ['a', 'c'],
      additionalProperties: false,
    })
    const numbers = t.intersection([constrained(t.number, 'Small', { maximum: 9 }), t.number])
    expect(toJsonSchema(numbers)).toEqual({ allOf: [{ type: 'number', maximum: 9 }, { type: 'number' }] })
    expect(() => toJsonSchema(t.intersection([t.type({ a: t.string }), t.string]))).toThrow(/intersected/)
  })

  it('looks through t.exact, t.strict and t.readonly', () => {
    const inner = toJsonSchema(t.type({ a: t.string }))
    expect(toJsonSchema(t.exact(t.type({ a: t.string })))).toEqual(inner)
    expect(toJsonSchema(t.strict({ a: t.string }))).toEqual(inner)
    expect(toJsonSchema(t.readonly(t.type({ a: t.string })))).toEqual(inner)
  })

  it('gives the encoded default of a defaulted codec', () => {
    const Rotation = t.type({
      max: withDefault(t.number, 5),
      age: withDefault(t.union([t.number, t.null]), null),
    })
    expect(toJsonSchema(withDefault(Rotation, { max: 5, age: null }))).toMatchObject({
      default: { max: 5, age: null },
    })
    expect(toJsonSchema(withDefault(t.array(t.string), []))).toEqual({
      type: 'array',
      items: { type: 'string' },
      default: [],
    })
  })

  it('refuses codecs it cannot describe rather than document them loosely', () => {
    expect(() => toJsonSchema(t.refinement(t.number, (n) => n > 0, 'Positive'))).toThrow(/constrained/)
    expect(() =>
      toJsonSchema(
        t.brand(t.string, (s): s is t.Branded<string, { readonly Id: unique symbol }> => s !== '', 'Id'),
      ),
    ).toThrow(/constrained/)
    expect(() => toJsonSchema(t.bigint)).toThrow(/no JSON Schema/)
    expect(() => toJsonSchema(t.type({ n: withDefault(t.unknown, () => 1) }))).toThrow(/not JSON/)
  })
})

describe('refinements that carry their constraints', () => {
  it('puts their keywords on the base schema', () => {
    expect(toJsonSchema(PositiveInteger)).toEqual({ type: 'integer', minimum: 1 })
    expect(toJsonSchema(Timestamp)).toEqual({ type: 'string', format: 'date-time' })
    const Id = constrained(t.string, 'Id', { pattern: '^[a-z]+$', maxLength: 8, description: 'An id.' })
    expect(toJsonSchema(Id)).toEqual({
      type: 'string',
      pattern: '^[a-z]+$',
      maxLength: 8,
      description: 'An id.',
    })
  })

  it('keeps the narrower bound when a refinement refines another, and both patterns', () => {
    expect(toJsonSchema(constrained(PositiveInteger, 'Small', { minimum: 0, maximum: 256 }))).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 256,
    })
    const Lower = constrained(t.string, 'Lower', { pattern: '^[a-z]*$' })
    expect(toJsonSchema(constrained(Lower, 'LowerX', { pattern: 'x' }))).toEqual({
      type: 'string',
      pattern: '^[a-z]*$',
      allOf: [{ pattern: 'x' }],
    })
  })

  it('has the decoder enforce every keyword, and an extra check the schema only describes', () => {
    const Odd = constrained(t.number, 'Odd', { type: 'integer', minimum: -5, maximum: 5 }, (n) => n % 2 !== 0)
    const decodes = (value: unknown) => isRight(Odd.decode(value))
    expect([3, -5, 5].map(decodes)).toEqual([true, true, true])
    expect([4, 1.5, 7, -7, '3'].map(decodes)).toEqual([false, false, false, false, false])
    expect(Odd.decode(4)).toMatchObject({ left: [{ context: [{ type: { name: 'Odd' } }] }] })
  })

  // The decoder and an independent validator must agree on each keyword, edge cases included.
  const agreement: Array<[string, t.Any, unknown[]]> = [
    [
      'integer bounds',
      constrained(t.number, 'B', { type: 'integer', minimum: 1, maximum: 3 }),
      [0, 1, 2.5, 3, 4],
    ],
    [
      'pattern',
      constrained(t.string, 'P', { pattern: '^(?!\\.\\.?$)[a-z.]{1,3}$' }),
      ['.', '..', '...', 'a.b', 'abcd', ''],
    ],
    [
      'not only white space',
      constrained(t.string, 'W', { pattern: '\\S' }),
      ['', ' ', '\t\n', ' a ', '\u00a0'],
    ],
    [
      'length in code points',
      constrained(t.string, 'L', { minLength: 2, maxLength: 2 }),
      ['😀', '😀😀', 'ab', 'a'],
    ],
    [
      'date-time',
      Timestamp,
      [
        '2025-01-01T00:00:00.000Z',
        '2024-02-29T23:59:59+01:00',
        '2025-02-29T00:00:00Z',
        '2025-02-30T00:00:00Z',
        '2025-01-01T24:00:00Z',
        '2025-13-01T00:00:00Z',
        '2025-01-01 00:00:00Z',
        '2025-01-01T00:00:00',
        '2025-01-01t00:00:00z',
        '',
      ],
    ],
  ]
  it.each(agreement)('%s: the schema accepts exactly what the decoder accepts', (_, codec, values) => {
    const schema = toJsonSchema(codec)
    for (const value of values) {
      const decoded = isRight(codec.decode(value))
      expect(schemaErrors(ajv, schema, value).length === 0, JSON.stringify(value)).toBe(decoded)
    }
  })
})

describe('described', () => {
  const Shared = PositiveInteger
  const Count = described(Shared, 'How many.')

  it('adds a description at the use site and leaves the shared codec alone', () => {
    expect(toJsonSchema(t.type({ n: Count, m: Shared }))).toMatchObject({
      properties: { n: { description: 'How many.', type: 'integer' }, m: { type: 'integer', minimum: 1 } },
    })
    expect(descriptionOf(Shared)).toBeUndefined()
    expect(descriptionOf(Count)).toBe('How many.')
  })

  it('decodes exactly like the codec it describes and keeps its class and fields', () => {
    const Point = t.type({ x: t.number })
    const Described = described(Point, 'A point.')
    expect(Described).toBeInstanceOf(t.InterfaceType)
    expect(Described.props).toBe(Point.props)
    expect(Described.decode({ x: 1 })).toEqual(Point.decode({ x: 1 }))
    expect(isRight(Described.decode({ x: 'a' }))).toBe(false)
    expect(toJsonSchema(Described)).toMatchObject({ description: 'A point.', type: 'object' })
  })

  it('overrides the description a constrained codec carries', () => {
    const Id = constrained(t.string, 'Id', { pattern: '^a', description: 'Any id.' })
    expect(toJsonSchema(described(Id, 'The sink id.'))).toEqual({
      description: 'The sink id.',
      type: 'string',
      pattern: '^a',
    })
  })
})

describe('componentSchemas', () => {
  const Sink = t.type({ id: t.string })
  const Options = t.type({ size: withDefault(t.number, 1) })
  const Body = t.type({ sinks: t.array(Sink), options: withDefault(Options, { size: 1 }) })
  const Stored = t.intersection([t.type({ revision: t.number }), Body])
  const schemas = componentSchemas({
    Sink: { codec: Sink, mode: 'input' },
    Options: { codec: Options, mode: 'input' },
    Body: { codec: Body, mode: 'input' },
    Stored: { codec: Stored, mode: 'output' },
    Described: { codec: described(t.type({ sink: described(Sink, 'The one sink.') }), 'X'), mode: 'output' },
  })

  it('references a component met in its own mode, or whose schema is the same in both', () => {
    expect(schemas.Body.properties).toEqual({
      sinks: { type: 'array', items: { $ref: '#/components/schemas/Sink' } },
      options: { $ref: '#/components/schemas/Options', default: { size: 1 } },
    })
    // Stored is an output: Sink reads the same either way; Options does not (size is required there).
    expect(JSON.stringify(schemas.Stored)).toContain('#/components/schemas/Sink')
    expect(JSON.stringify(schemas.Stored)).not.toContain('#/components/schemas/Options')
    expect(schemas.Stored).toMatchObject({
      properties: { options: { properties: { size: { type: 'number' } }, required: ['size'] } },
    })
  })

  it('keeps the use-site description next to the $ref of a described component', () => {
    expect(schemas.Described.properties).toEqual({
      sink: { $ref: '#/components/schemas/Sink', description: 'The one sink.' },
    })
  })

  it('refuses one codec named twice', () => {
    expect(() =>
      componentSchemas({ A: { codec: Sink, mode: 'input' }, B: { codec: Sink, mode: 'output' } }),
    ).toThrow(/two components/)
  })

  it('writes schemas an independent validator accepts, and that agree with the decoder', () => {
    const doc = { components: { schemas } }
    const local = newAjv()
    local.addVocabulary(['components'])
    local.addSchema(doc, 'doc')
    const errors = (name: string, value: unknown) => {
      const validate = local.compile({ $ref: `doc#/components/schemas/${name}` })
      return validate(value) ? [] : (validate.errors ?? [])
    }
    const body = { sinks: [{ id: 'a' }] }
    expect(errors('Body', body)).toEqual([])
    expect(
      errors('Stored', Stored.encode(decodeOrThrow(Stored, { revision: 1, ...body }, 'stored'))),
    ).toEqual([])
    expect(errors('Stored', { revision: 1, ...body })).not.toEqual([])
    expect(errors('Body', { ...body, extra: 1 })).not.toEqual([])
  })
})
