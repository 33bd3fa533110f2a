import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  type Compression,
  decodeRawFrames,
  encodeFile,
  type FileFormat,
  objectKey,
} from '../../../src/processes/archiver/fileEncoding.js'
import type { BufferedRecord, OpenFile } from '../../../src/processes/archiver/fileRotation.js'

function rec(offset: number, body: string | Buffer, sortKey?: string | number): BufferedRecord {
  return { offset, body: typeof body === 'string' ? Buffer.from(body) : body, timeMs: 0, sortKey }
}

function file(records: BufferedRecord[], path = 'dt=2024-03-10/hr=14', startOffset?: number): OpenFile {
  return {
    path,
    startOffset: startOffset ?? records[0]?.offset ?? 0,
    lastOffset: records.at(-1)?.offset ?? startOffset ?? 0,
    records,
    bytes: records.reduce((sum, r) => sum + r.body.length + 1, 0),
    minTimeMs: 0,
    maxTimeMs: 0,
    openedAt: 0,
    count: records.length,
  }
}

async function lines(records: BufferedRecord[], sorted: boolean): Promise<string[]> {
  const { body } = await encodeFile(file(records), 'jsonl', 'none', sorted)
  return body.toString('utf8').split('\n').slice(0, -1)
}

describe('objectKey', () => {
  const open = file([rec(1200, '{}')])

  it.each([
    ['jsonl', 'none', 'dt=2024-03-10/hr=14/orders+3+1200.jsonl'],
    ['jsonl', 'gzip', 'dt=2024-03-10/hr=14/orders+3+1200.jsonl.gz'],
    ['lines', 'none', 'dt=2024-03-10/hr=14/orders+3+1200.txt'],
    ['lines', 'zstd', 'dt=2024-03-10/hr=14/orders+3+1200.txt.zst'],
    ['raw', 'none', 'dt=2024-03-10/hr=14/orders+3+1200.bin'],
    ['raw', 'gzip', 'dt=2024-03-10/hr=14/orders+3+1200.bin.gz'],
  ] as const)('%s/%s -> %s', (format, compression, key) => {
    expect(objectKey(open, 'orders', 3, format, compression)).toBe(key)
  })

  it.each([
    ['jsonl', 'none', 'orders+3+1200.jsonl'],
    ['jsonl', 'gzip', 'orders+3+1200.jsonl.gz'],
    ['raw', 'none', 'orders+3+1200.bin'],
    ['raw', 'gzip', 'orders+3+1200.bin.gz'],
  ] as const)('with an empty path, %s/%s -> %s (no leading slash)', (format, compression, key) => {
    expect(objectKey(file([rec(1200, '{}')], ''), 'orders', 3, format, compression)).toBe(key)
  })

  it('uses the start offset, not the other records', () => {
    const many = file([rec(0, 'a'), rec(1, 'b'), rec(2, 'c')], 'p')
    expect(objectKey(many, 'my.topic-name_1', 0, 'jsonl', 'gzip')).toBe('p/my.topic-name_1+0+0.jsonl.gz')
  })

  it('is the same for the same records cut again (deterministic)', () => {
    const a = file([rec(42, 'x'), rec(43, 'y')], 'p')
    const b = file([rec(42, 'x')], 'p')
    expect(objectKey(a, 't', 7, 'raw', 'none')).toBe(objectKey(b, 't', 7, 'raw', 'none'))
  })
})

describe('encodeFile', () => {
  const records = [rec(5, '{"a":1}'), rec(6, '{"a":2}'), rec(7, '{"a":"ü"}')]

  it('writes JSON Lines: one newline-terminated line per record in offset order', async () => {
    const { body, metadata } = await encodeFile(file(records), 'jsonl', 'none', false)
    expect(body.toString('utf8')).toBe('{"a":1}\n{"a":2}\n{"a":"ü"}\n')
    expect(body.length).toBe(file(records).bytes)
    expect(metadata).toEqual({ contentType: 'application/x-ndjson' })
  })

  it('writes lines as JSON Lines are framed, as text', async () => {
    const text = [rec(5, 'plain text'), rec(6, '{"a":1}'), rec(7, 'ü')]
    const { body, metadata } = await encodeFile(file(text), 'lines', 'none', false)
    expect(body.toString('utf8')).toBe('plain text\n{"a":1}\nü\n')
    expect(body.length).toBe(file(text).bytes)
    expect(metadata).toEqual({ contentType: 'text/plain; charset=utf-8' })
  })

  it('writes an empty body for a file without records', async () => {
    const { body } = await encodeFile(file([]), 'jsonl', 'none', false)
    expect(body.length).toBe(0)
    const raw = await encodeFile(file([]), 'raw', 'none', false)
    expect(raw.body.length).toBe(0)
  })

  it('gzips to bytes that gunzip to the uncompressed encoding', async () => {
    for (const format of ['jsonl', 'lines', 'raw'] as FileFormat[]) {
      const plain = await encodeFile(file(records), format, 'none', false)
      const zipped = await encodeFile(file(records), format, 'gzip', false)
      expect(zipped.body[0]).toBe(0x1f)
      expect(zipped.body[1]).toBe(0x8b)
      expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true)
      expect(zipped.metadata).toEqual({ contentType: plain.metadata.contentType, contentEncoding: 'gzip' })
      expect(plain.metadata.contentEncoding).toBeUndefined()
    }
  })

  it('gzips an empty file to a valid empty stream', async () => {
    const { body, metadata } = await encodeFile(file([]), 'jsonl', 'gzip', false)
    expect(gunzipSync(body).length).toBe(0)
    expect(metadata.contentEncoding).toBe('gzip')
  })

  it('keeps offset order when not sorted, even with sort keys', async () => {
    expect(await lines([rec(0, 'c', 3), rec(1, 'a', 1), rec(2, 'b', 2)], false)).toEqual(['c', 'a', 'b'])
  })

  it('sorts numbers numerically', async () => {
    const input = [
      rec(0, 'ten', 10),
      rec(1, 'nine', 9),
      rec(2, 'hundred', 100),
      rec(3, 'two', 2),
      rec(4, 'neg', -1.5),
    ]
    expect(await lines(input, true)).toEqual(['neg', 'two', 'nine', 'ten', 'hundred'])
  })

  it('sorts strings lexically (by UTF-16 code units)', async () => {
    const input = [
      rec(0, '1', 'b'),
      rec(1, '2', 'a'),
      rec(2, '3', 'aa'),
      rec(3, '4', 'B'),
      rec(4, '5', '10'),
      rec(5, '6', '9'),
    ]
    // '10' < '9' < 'B' < 'a' < 'aa' < 'b'
    expect(await lines(input, true)).toEqual(['5', '6', '4', '2', '3', '1'])
  })

  it('sorts ISO timestamps as strings chronologically', async () => {
    const input = [
      rec(0, 'late', '2024-03-10T12:00:01Z'),
      rec(1, 'early', '2024-03-10T11:59:59Z'),
      rec(2, 'mid', '2024-03-10T12:00:00Z'),
    ]
    expect(await lines(input, true)).toEqual(['early', 'mid', 'late'])
  })

  it('puts records without a sort key last, in offset order', async () => {
    const input = [rec(0, 'u1'), rec(1, 'three', 3), rec(2, 'u2'), rec(3, 'one', 1), rec(4, 'u3')]
    expect(await lines(input, true)).toEqual(['one', 'three', 'u1', 'u2', 'u3'])
  })

  it('is stable for equal keys', async () => {
    const input = [
      rec(0, 'b0', 1),
      rec(1, 'a0', 0),
      rec(2, 'b1', 1),
      rec(3, 'a1', 0),
      rec(4, 'b2', 1),
      rec(5, 'a2', 0),
    ]
    expect(await lines(input, true)).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2'])
    const strings = [rec(0, 'y0', 'y'), rec(1, 'x0', 'x'), rec(2, 'y1', 'y'), rec(3, 'x1', 'x')]
    expect(await lines(strings, true)).toEqual(['x0', 'x1', 'y0', 'y1'])
  })

  it('does not reorder the file it encodes', async () => {
    const open = file([rec(0, 'b', 2), rec(1, 'a', 1)])
    await encodeFile(open, 'jsonl', 'none', true)
    expect(open.records.map((r) => r.offset)).toEqual([0, 1])
  })

  it('sorts raw files too', async () => {
    const { body } = await encodeFile(file([rec(0, 'b', 2), rec(1, 'a', 1)]), 'raw', 'none', true)
    expect(decodeRawFrames(body).map((b) => b.toString())).toEqual(['a', 'b'])
  })

  // Numbers compare numerically, strings and mixed pairs as strings: with both kinds in one file the
  // comparator is not a total order (2 < 10 numerically, '10' < '1a' and '1a' < '2' as strings), so
  // the "sorted" result depends on the input order.
  it('orders a file with mixed number and string keys independently of offset order', async () => {
    const keys: (string | number)[][] = [
      [2, 10, '1a'],
      [10, '1a', 2],
      ['1a', 2, 10],
      [10, 2, '1a'],
    ]
    const results = await Promise.all(
      keys.map((ks) =>
        lines(
          ks.map((k, i) => rec(i, String(k), k)),
          true,
        ),
      ),
    )
    for (const result of results) expect(result).toEqual(results[0])
  })

  describe('raw framing', () => {
    const values = [
      Buffer.from('abc'),
      Buffer.alloc(0),
      Buffer.from([0x00, 0x0a, 0xff, 0x0d, 0x0a]),
      Buffer.alloc(0),
      Buffer.alloc(70_000, 7),
    ]

    it('prefixes each value with its 4-byte big-endian length', async () => {
      const { body, metadata } = await encodeFile(
        file([rec(0, 'abc'), rec(1, Buffer.alloc(0))]),
        'raw',
        'none',
        false,
      )
      expect(body.equals(Buffer.from([0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0, 0, 0]))).toBe(true)
      expect(metadata).toEqual({ contentType: 'application/octet-stream' })
    })

    it.each(['none', 'gzip'] as Compression[])(
      'round-trips through decodeRawFrames (%s)',
      async (compression) => {
        const records = values.map((v, i) => rec(100 + i, v))
        const { body } = await encodeFile(file(records), 'raw', compression, false)
        const plain = compression === 'gzip' ? gunzipSync(body) : body
        expect(plain.length).toBe(values.reduce((sum, v) => sum + 4 + v.length, 0))
        const frames = decodeRawFrames(plain)
        expect(frames).toHaveLength(values.length)
        frames.forEach((frame, i) => {
          expect(frame.equals(values[i] ?? Buffer.alloc(1))).toBe(true)
        })
      },
    )

    it('round-trips a file of only empty values', async () => {
      const { body } = await encodeFile(file([rec(0, ''), rec(1, '')]), 'raw', 'none', false)
      expect(body.equals(Buffer.alloc(8))).toBe(true)
      expect(decodeRawFrames(body).map((f) => f.length)).toEqual([0, 0])
    })
  })
})

describe('decodeRawFrames', () => {
  const framed = Buffer.from([0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0, 0, 2, 0x64, 0x65]) // 'abc', 'de'

  it('reads frames', () => {
    expect(decodeRawFrames(framed).map((f) => f.toString())).toEqual(['abc', 'de'])
  })

  it('reads an empty body as no frames', () => {
    expect(decodeRawFrames(Buffer.alloc(0))).toEqual([])
  })

  it('rejects a body cut inside a value', () => {
    expect(() => decodeRawFrames(framed.subarray(0, framed.length - 1))).toThrow(/truncated raw frame/)
  })

  it('rejects a body cut inside a length prefix', () => {
    expect(() => decodeRawFrames(framed.subarray(0, 9))).toThrow('truncated raw frame at byte 7')
    expect(() => decodeRawFrames(Buffer.from([0, 0]))).toThrow('truncated raw frame at byte 0')
  })

  it('rejects a length prefix that claims more than is there', () => {
    expect(() => decodeRawFrames(Buffer.from([0, 0, 0, 100, 1, 2, 3]))).toThrow(/truncated raw frame/)
    expect(() => decodeRawFrames(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(/truncated raw frame/)
  })
})
