// The fast record batch decoder must build exactly what kafkajs 2.2.4's own decoder builds, for
// every kind of batch a fetch can hold; the batches are made by kafkajs's own encoder.
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { applyFastRecordDecode, fastBatchDecoder, loadKafkajs } from '../../src/kafka/fastRecordDecode.js'

const require = createRequire(import.meta.url)
type Encoded = { buffer: Buffer }
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (o: object) => Promise<Encoded>
}
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: object) => Encoded
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: number | string): unknown }
const { Types } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { GZIP: number } }

interface Spec {
  readonly firstOffset: string
  readonly firstTimestamp: number
  readonly compression?: number
  readonly records: readonly object[]
}

async function batches(specs: readonly Spec[], cutLast = 0): Promise<Buffer> {
  const encoded = await Promise.all(
    specs.map((s) =>
      RecordBatch({
        firstOffset: Long.fromValue(s.firstOffset),
        firstTimestamp: s.firstTimestamp,
        maxTimestamp: s.firstTimestamp + 10,
        lastOffsetDelta: s.records.length - 1,
        ...(s.compression !== undefined && { compression: s.compression }),
        records: s.records.map((r) => Record(r)),
      }),
    ),
  )
  const all = Buffer.concat(encoded.map((e) => e.buffer))
  return all.subarray(0, all.length - cutLast)
}

/** kafkajs's parts, counting the batches left to kafkajs's own decoder. */
function counted() {
  const k = loadKafkajs()
  let calls = 0
  const original = (d: Parameters<typeof k.original>[0]) => {
    calls++
    return k.original(d)
  }
  return { k: { ...k, original }, fallbacks: () => calls }
}

/** Decodes every complete batch of `buffer` the way kafkajs's fetch decoding does. */
async function decodeAll(decode: (d: never) => Promise<unknown>, buffer: Buffer): Promise<unknown[]> {
  const k = loadKafkajs()
  const decoder = new k.Decoder(buffer)
  const out: unknown[] = []
  while (decoder.offset + 49 <= buffer.length) {
    try {
      out.push(await decode(decoder as never))
    } catch (error) {
      if ((error as Error).name === 'KafkaJSPartialMessageError') break
      throw error
    }
  }
  return out
}

const plain = [
  { offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k'), value: Buffer.from('{"a":1}') },
  { offsetDelta: 1, timestampDelta: -5_000, key: null, value: Buffer.from('') },
  { offsetDelta: 2, timestampDelta: 123_456_789, key: Buffer.from(''), value: null },
  {
    offsetDelta: 3,
    timestampDelta: 1,
    key: null,
    value: Buffer.alloc(3000, 0x61),
    headers: { trace: Buffer.from('t1'), dup: [Buffer.from('x'), Buffer.from('y'), Buffer.from('z')] },
  },
  { offsetDelta: 300, timestampDelta: 2 ** 40, key: Buffer.from('far'), value: Buffer.from('"v"') },
]

describe('fast record batch decoder', () => {
  // First: kafkajs must not have decoded a fetch in this process yet.
  it('is put in place of kafkajs’s decoder before kafkajs first decodes a fetch', () => {
    expect(applyFastRecordDecode()).toBe(true)
    const decoder = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js')
    expect(typeof decoder).toBe('function')
    expect((require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as { fast?: boolean }).fast).toBe(true)
  })

  it('builds what kafkajs builds: keys and values null or empty, headers (a repeated key), negative and large deltas', async () => {
    const buffer = await batches([
      { firstOffset: '0', firstTimestamp: Date.UTC(2026, 0, 1), records: plain },
      { firstOffset: '1099511627776', firstTimestamp: 1, records: plain },
    ])
    const { k, fallbacks } = counted()
    const fast = await decodeAll(fastBatchDecoder(k), buffer)
    expect(fast).toEqual(await decodeAll(loadKafkajs().original, buffer))
    expect(fast).toHaveLength(2)
    expect(fallbacks()).toBe(0)
  })

  it('leaves compressed batches, and offsets or timestamps past 2^53, to kafkajs', async () => {
    const buffer = await batches([
      { firstOffset: '7', firstTimestamp: 1000, compression: Types.GZIP, records: plain },
      { firstOffset: '9007199254740990', firstTimestamp: 1000, records: plain },
      {
        firstOffset: '5',
        firstTimestamp: 1000,
        records: [{ timestampDelta: 2 ** 52, value: Buffer.from('1') }],
      },
    ])
    const { k, fallbacks } = counted()
    const fast = await decodeAll(fastBatchDecoder(k), buffer)
    expect(fast).toEqual(await decodeAll(loadKafkajs().original, buffer))
    expect(fast).toHaveLength(3)
    expect(fallbacks()).toBe(3)
  })

  it('stops at a partial batch at the end of a fetch, as kafkajs does', async () => {
    const buffer = await batches(
      [
        { firstOffset: '0', firstTimestamp: 1000, records: plain },
        { firstOffset: '400', firstTimestamp: 1000, records: plain },
      ],
      100,
    )
    const k = loadKafkajs()
    const fast = await decodeAll(fastBatchDecoder(k), buffer)
    expect(fast).toEqual(await decodeAll(k.original, buffer))
    expect(fast).toHaveLength(1)
  })
})
