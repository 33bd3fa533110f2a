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
function fill(compression: OpenFileCompression, count: number) {
  const rotation = new FileRotation(rules)
  for (let offset = 0; offset < count; offset++) {
    const file = rotation.append('p', record(offset), 0)
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
      const compression = new OpenFileCompression(format, 'gzip')
      const file = fill(compression, 3000) // about 3 MB: two steps early, the rest at the end
      const stream = compression.take(file)
      expect(stream?.recordsWritten).toBeGreaterThan(1000)
      expect(stream?.recordsWritten).toBeLessThan(3000)
      // What was compressed left the file (its memory is the compressed bytes now).
      expect(file.count).toBe(3000)
      expect(file.records).toHaveLength(3000 - (stream?.recordsWritten ?? 0))
      const streamed = await encodeFile(file, format, 'gzip', false, stream)
      const allRecords = Array.from({ length: 3000 }, (_, offset) => record(offset))
      const whole = await encodeFile({ ...file, records: allRecords }, format, 'gzip', false)
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
    const small = new OpenFileCompression('jsonl', 'gzip')
    expect(small.take(fill(small, 100))).toBeUndefined()
    const disabled = new OpenFileCompression('jsonl', undefined)
    expect(disabled.take(fill(disabled, 3000))).toBeUndefined()
  })

  it('discards the stream of a dropped file', () => {
    const compression = new OpenFileCompression('jsonl', 'gzip')
    const file = fill(compression, 2000)
    compression.discard([file])
    expect(compression.take(file)).toBeUndefined()
  })

  it("counts each open stream's own memory in the budget until it is finished or destroyed", async () => {
    const budget = new InFlightBudget(1_000_000, 1024 ** 3)
    const compression = new OpenFileCompression('jsonl', 'gzip', budget)
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
})
