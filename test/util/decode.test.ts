import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { described } from '../../src/util/codecs.js'
import {
  decodeOrThrow,
  decodeStrict,
  defaultsOf,
  type FieldError,
  fieldErrors,
  stripUnknown,
  unknownFields,
  ValidationError,
  withDefault,
} from '../../src/util/decode.js'

function errorsOf(codec: t.Decoder<unknown, unknown>, input: unknown): FieldError[] {
  const result = codec.decode(input)
  if (!isLeft(result)) throw new Error(`${JSON.stringify(input)} decoded`)
  return fieldErrors(result.left)
}

const pathsOf = (codec: t.Decoder<unknown, unknown>, input: unknown): string[] =>
  errorsOf(codec, input)
    .map((e) => e.path)
    .sort()

const Address = t.type({ street: t.string, zip: t.number })
const Person = t.intersection([
  t.type({ name: t.string, address: Address, tags: t.array(t.string) }),
  t.partial({ age: t.number, friends: t.array(t.type({ name: t.string })) }),
])

describe('decodeOrThrow', () => {
  it('returns the decoded value', () => {
    const value = { name: 'n', address: { street: 's', zip: 1 }, tags: [] }
    expect(decodeOrThrow(Person, value, 'person')).toEqual(value)
  })

  it('throws one ValidationError listing every bad field', () => {
    let caught: unknown
    try {
      decodeOrThrow(
        Person,
        { name: 1, address: { street: 's', zip: 'x' }, tags: ['a', 2], age: 'old' },
        'person',
      )
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ValidationError)
    const error = caught as ValidationError
    expect(error.name).toBe('ValidationError')
    expect(error.what).toBe('person')
    expect(error.errors.map((e) => e.path).sort()).toEqual(['address.zip', 'age', 'name', 'tags.1'])
    expect(error.message).toMatch(/^invalid person: /)
    for (const path of ['address.zip', 'age', 'name', 'tags.1']) expect(error.message).toContain(`${path}: `)
  })

  it('names the root "(root)" in the message', () => {
    expect(() => decodeOrThrow(t.number, 'x', 'count')).toThrow(
      'invalid count: (root): expected number, got "x"',
    )
  })
})

describe('fieldErrors', () => {
  it('gives the path through nested t.type fields', () => {
    expect(pathsOf(Address, { street: 's', zip: 'x' })).toEqual(['zip'])
    expect(pathsOf(Person, { name: 'n', address: { street: 5, zip: 1 }, tags: [] })).toEqual([
      'address.street',
    ])
  })

  it('gives the path of a missing field, and says it is missing', () => {
    const errors = errorsOf(Person, { name: 'n', address: { street: 's' }, tags: [] })
    expect(errors).toEqual([{ path: 'address.zip', message: 'expected number, got missing' }])
  })

  it('gives the path through t.partial fields', () => {
    expect(pathsOf(Person, { name: 'n', address: { street: 's', zip: 1 }, tags: [], age: '3' })).toEqual([
      'age',
    ])
  })

  it('includes array indices in the path', () => {
    const input = {
      name: 'n',
      address: { street: 's', zip: 1 },
      tags: ['a', 'b', 3],
      friends: [{ name: 'x' }, { name: 7 }],
    }
    expect(pathsOf(Person, input)).toEqual(['friends.1.name', 'tags.2'])
    expect(pathsOf(t.array(t.array(t.number)), [[1], [2, 'x']])).toEqual(['1.1'])
  })

  it('leaves intersection member indices out of the path', () => {
    const codec = t.intersection([t.type({ a: t.number }), t.type({ b: t.type({ c: t.string }) })])
    expect(pathsOf(codec, { a: 'x', b: { c: 1 } })).toEqual(['a', 'b.c'])
  })

  it('leaves union member indices out of the path', () => {
    const codec = t.type({ u: t.union([t.type({ x: t.string }), t.null]) })
    const paths = pathsOf(codec, { u: { x: 1 } })
    expect(paths).toEqual(['u', 'u.x'])
    for (const path of paths) expect(path.split('.')).not.toContain('0')
    for (const path of paths) expect(path.split('.')).not.toContain('1')
  })

  it('keeps only the first error of each path', () => {
    const codec = t.type({ v: t.union([t.string, t.number]) })
    const errors = errorsOf(codec, { v: true })
    expect(errors).toHaveLength(1)
    expect(errors[0]).toEqual({ path: 'v', message: 'expected string, got true' })
  })

  it('uses a refinement name and its own message', () => {
    const Positive = t.refinement(t.number, (n) => n > 0, 'Positive')
    expect(errorsOf(t.type({ n: Positive }), { n: -1 })).toEqual([
      { path: 'n', message: 'expected Positive, got -1' },
    ])
    const withMessage = new t.Type<number, number, unknown>(
      'Custom',
      (u): u is number => typeof u === 'number',
      (u, c) => t.failure(u, c, 'a custom message'),
      (n) => n,
    )
    expect(errorsOf(t.type({ n: withMessage }), { n: 1 })).toEqual([
      { path: 'n', message: 'a custom message' },
    ])
  })

  it('shortens long values in messages', () => {
    const [error] = errorsOf(t.type({ n: t.number }), { n: 'x'.repeat(100) })
    expect(error!.message).toBe(`expected number, got "${'x'.repeat(56)}...`)
  })

  // A refinement or an exact type validates its inner codec with its own context entry: the keys of
  // the inner codec are field names and must stay in the path.
  it('keeps the array index under a refined array', () => {
    const NonEmpty = t.refinement(t.array(t.string), (a) => a.length > 0, 'NonEmpty')
    expect(pathsOf(t.type({ list: NonEmpty }), { list: ['a', 1] })).toEqual(['list.1'])
  })

  it('keeps the field names under an exact type', () => {
    expect(
      pathsOf(t.type({ outer: t.exact(t.type({ inner: t.number })) }), { outer: { inner: 'x' } }),
    ).toEqual(['outer.inner'])
    expect(pathsOf(t.strict({ inner: t.number }), { inner: 'x' })).toEqual(['inner'])
  })

  it('keeps the field names under a refined object', () => {
    const Range = t.refinement(t.type({ lo: t.number, hi: t.number }), (r) => r.lo <= r.hi, 'Range')
    expect(pathsOf(t.type({ range: Range }), { range: { lo: 'a', hi: 1 } })).toEqual(['range.lo'])
  })
})

describe('strictness', () => {
  const Sink = t.type({ id: t.string })
  const Config = t.intersection([
    t.type({
      sinks: t.array(Sink),
      time: withDefault(t.type({ zone: withDefault(t.string, 'UTC') }), { zone: 'UTC' }),
      target: t.union([t.type({ topic: t.string }), t.null]),
      tags: t.record(t.string, t.type({ on: t.boolean })),
    }),
    t.partial({ note: described(t.readonly(t.type({ text: t.string })), 'A note.') }),
  ])
  const valid = { sinks: [{ id: 'a' }], target: null, tags: {} }

  it('reports unknown keys at every depth with their paths, through unions, records and wrappers', () => {
    const input = {
      ...valid,
      extra: 1,
      sinks: [{ id: 'a' }, { id: 'b', colour: 'red' }],
      time: { zone: 'UTC', offset: 2 },
      target: { topic: 't', partition: 0 },
      tags: { x: { on: true, why: 'y' } },
      note: { text: 'n', by: 'me' },
    }
    // In the order of the input's keys.
    expect(unknownFields(Config, input).map((e) => e.path)).toEqual([
      'sinks.1.colour',
      'target.partition',
      'tags.x.why',
      'extra',
      'time.offset',
      'note.by',
    ])
    expect(unknownFields(Config, input)[0]).toEqual({ path: 'sinks.1.colour', message: 'unknown field' })
    expect(unknownFields(Config, valid)).toEqual([])
  })

  it('treats an own "__proto__" key as the unknown key it is', () => {
    expect(unknownFields(Config, JSON.parse('{"__proto__": {"x": 1}}'))).toEqual([
      { path: '__proto__', message: 'unknown field' },
    ])
  })

  it('decodeStrict lists the bad fields, then the unknown ones, in one ValidationError', () => {
    let caught: unknown
    try {
      decodeStrict(Config, { ...valid, sinks: [{ id: 1 }], colour: 'red' }, 'config')
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ValidationError)
    expect((caught as ValidationError).errors).toEqual([
      { path: 'sinks.0.id', message: 'expected string, got 1' },
      { path: 'colour', message: 'unknown field' },
    ])
    expect(decodeStrict(Config, valid, 'config')).toEqual({ ...valid, time: { zone: 'UTC' } })
  })

  it('stripUnknown drops undeclared keys at every depth and keeps the rest', () => {
    const decoded = decodeOrThrow(Config, { ...valid, extra: 1, sinks: [{ id: 'a', x: 1 }] }, 'config')
    expect(stripUnknown(Config, decoded)).toEqual({ ...valid, time: { zone: 'UTC' } })
  })

  it('defaultsOf gives what {} decodes to, and refuses a codec with a field without default', () => {
    expect(defaultsOf(t.type({ a: withDefault(t.number, 1), b: withDefault(t.null, null) }))).toEqual({
      a: 1,
      b: null,
    })
    expect(() => defaultsOf(t.type({ a: t.number }))).toThrow(/a: expected number/)
  })

  it('leaves union and intersection indices out of paths under readonly and described codecs', () => {
    const codec = t.type({ v: described(t.readonly(t.union([t.type({ x: t.string }), t.null])), 'V.') })
    expect(pathsOf(codec, { v: { x: 1 } })).toEqual(['v', 'v.x'])
  })
})
