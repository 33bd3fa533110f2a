import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  decodeRawFrames,
  encodeFile,
  type FramedFormat,
} from '../../../src/processes/archiver/fileEncoding.js'
import { type BufferedRecord, FileRotation } from '../../../src/processes/archiver/fileRotation.js'
import { InFlightBudget } from '../../../src/processes/archiver/inFlightBudget.js'
import {
  OpenFileCompression,
  STREAM_MEMORY_BYTES,
} from '../../../src/processes/archiver/streamingCompression.js'

/** A JSON record of about 1 KiB whose text varies, so that gzip has real work. */
function record(offset: number): BufferedRecord {
  const text = `${offset} `.repeat(200).slice(0, 1000)
  return { offset, body: Buffer.from(JSON.stringify({ offset, text })), timeMs: 0, sortKey: undefined }
}

const rules = {
  maxBytes: 64 * 1024 * 1024,
  maxRecords: 1_000_000,
  maxSpanMs: 3_600_000,
  maxAgeMs: null,
  idleMs: null,
}

/** Fills one open file with `count` records, advancing the compression after each, as the archiver does. */
function fill(compression: OpenFileCompression, count: number, format: FramedFormat = 'jsonl') {
  const rotation = new FileRotation(rules)
  for (let offset = 0; offset < count; offset++) {
    const file = rotation.append('p', record(offset), 0, format, compression.chunks)
    compression.advance(file)
  }
  const [file] = rotation.takeAll()
  if (!file) throw new Error('no open file')
  return file
}

/** The same records, kept by the test (the file gives compressed ones away). */
const expectedBodies = (count: number) =>
  Array.from({ length: count }, (_, offset) => record(offset).body.toString())

describe('OpenFileCompression', () => {
  it.each(['jsonl', 'lines', 'raw'] as FramedFormat[])(
    'compresses a %s file while it is open into the same bytes as compressing it whole',
    async (format) => {
      const compression = new OpenFileCompression('gzip')
      const file = fill(compression, 3000, format) // about 3 MB: most of it early, the rest at the end
      const stream = compression.take(file)
      const written = stream?.recordsWritten ?? 0
      expect(written).toBeGreaterThan(1000)
      expect(written).toBeLessThan(3000)
      // What was compressed left the file (its memory is the compressed bytes now).
      expect(file.count).toBe(3000)
      const framing = format === 'raw' ? 4 : 1
      const rest = expectedBodies(3000).slice(written)
      expect(file.framed?.length).toBe(rest.reduce((sum, body) => sum + Buffer.byteLength(body) + framing, 0))
      const streamed = await encodeFile(file, format, 'gzip', false, stream)
      const allRecords = Array.from({ length: 3000 }, (_, offset) => record(offset))
      const { framed: _, ...kept } = file
      const whole = await encodeFile({ ...kept, records: allRecords }, format, 'gzip', false)
      expect(streamed.metadata).toEqual(whole.metadata)
      expect(gunzipSync(streamed.body).equals(gunzipSync(whole.body))).toBe(true)
      expect(streamed.body.equals(whole.body)).toBe(true)
      const plain = gunzipSync(streamed.body)
      const bodies =
        format !== 'raw' ? plain.toString().split('\n').slice(0, -1) : decodeRawFrames(plain).map(String)
      expect(bodies).toEqual(expectedBodies(3000))
    },
  )

  it('keeps no stream for a small file, nor when disabled (sorted or uncompressed files)', () => {
    const small = new OpenFileCompression('gzip')
    expect(small.take(fill(small, 100))).toBeUndefined()
    const disabled = new OpenFileCompression(undefined)
    expect(disabled.chunks).toBeUndefined()
    expect(disabled.take(fill(disabled, 3000))).toBeUndefined()
  })

  it('discards the stream of a dropped file', () => {
    const compression = new OpenFileCompression('gzip')
    const file = fill(compression, 2000)
    compression.discard([file])
    expect(compression.take(file)).toBeUndefined()
  })

  it("counts each open stream's own memory in the budget until it is finished or destroyed", async () => {
    const budget = new InFlightBudget(1_000_000, 1024 ** 3)
    const compression = new OpenFileCompression('gzip', budget)
    const first = fill(compression, 2000)
    const second = fill(compression, 2000)
    expect(budget.bytes).toBe(2 * STREAM_MEMORY_BYTES)
    const stream = compression.take(first)
    await encodeFile(first, 'jsonl', 'gzip', false, stream)
    expect(budget.bytes).toBe(STREAM_MEMORY_BYTES)
    stream?.destroy() // after finish: nothing more to give back
    expect(budget.bytes).toBe(STREAM_MEMORY_BYTES)
    compression.discard([second])
    expect(budget.bytes).toBe(0)
  })

  it('hands each chunk back once zlib has read it, and a next file is framed into those chunks', async () => {
    const compression = new OpenFileCompression('gzip')
    const pool = compression.chunks
    if (pool === undefined) throw new Error('a streamed layout has a chunk pool')
    const first = fill(compression, 3000)
    const stream = compression.take(first)
    await encodeFile(first, 'jsonl', 'gzip', false, stream)
    const returned = pool.free
    // About 3 MB in 256 KiB chunks went through zlib; the pool keeps at most 16.
    expect(returned).toBeGreaterThan(5)
    expect(returned).toBeLessThanOrEqual(16)
    const second = fill(compression, 3000)
    expect(pool.free).toBeLessThan(returned)
    const again = compression.take(second)
    const { body } = await encodeFile(second, 'jsonl', 'gzip', false, again)
    // Reused chunks carry the new file's records, none of the old file's bytes.
    expect(gunzipSync(body).toString().split('\n').slice(0, -1)).toEqual(expectedBodies(3000))
  })
})
