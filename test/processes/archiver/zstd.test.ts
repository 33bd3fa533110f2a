// zstd where Node has it (node:zlib from 22.15 on), a clear error where not. CI runs the suite under
// Node 20 and Node 24, so both halves of each test below are exercised there.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compressionProblem, compressWhole, decompress } from '../../../src/processes/archiver/compression.js'
import { encodeFile } from '../../../src/processes/archiver/fileEncoding.js'
import { FileRotation } from '../../../src/processes/archiver/fileRotation.js'
import { OpenFileCompression } from '../../../src/processes/archiver/streamingCompression.js'
import { openSink } from '../../../src/sinks/openSink.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { createTopic, produce, runArchiver, topicConfig } from './harness.js'

const nodeHasZstd = compressionProblem('zstd') === undefined
/** About 850 KB of JSON Lines: more than the first step of a file compressed while open. */
const RECORDS = 4000

describe('zstd', () => {
  it('is refused with the Node version and what to do, when node:zlib has no zstd', () => {
    const problem = compressionProblem('zstd', null)
    expect(problem).toContain('zstd needs Node.js 22.15 or later')
    expect(problem).toContain(process.version)
    expect(problem).toContain('use gzip or none')
    expect(compressionProblem('gzip', null)).toBeUndefined()
    expect(compressionProblem('none', null)).toBeUndefined()
  })

  it(`${nodeHasZstd ? 'compresses whole and while open into frames that decompress to the records' : 'rejects compressing with that error'} (Node ${process.version})`, async () => {
    const plain = Buffer.from(
      Array.from({ length: RECORDS }, (_, i) => `{"i":${i},"pad":"${'x'.repeat(200)}"}\n`).join(''),
    )
    if (!nodeHasZstd) {
      await expect(compressWhole(plain, 'zstd', 65536)).rejects.toThrow(/zstd needs Node\.js 22\.15/)
      expect(() => new OpenFileCompression('zstd').advance(fill(RECORDS))).toThrow(/zstd needs Node\.js/)
      return
    }
    const whole = await compressWhole(plain, 'zstd', 65536)
    expect(whole.length).toBeLessThan(plain.length / 4)
    expect(decompress(whole, 'zstd').equals(plain)).toBe(true)
    const streaming = new OpenFileCompression('zstd')
    const file = fill(RECORDS, streaming)
    const stream = streaming.take(file)
    expect(stream?.recordsWritten).toBeGreaterThan(0)
    const { body, metadata } = await encodeFile(file, 'jsonl', 'zstd', false, stream)
    expect(metadata.contentEncoding).toBe('zstd')
    expect(decompress(body, 'zstd').equals(plain)).toBe(true)
  })

  it(`${nodeHasZstd ? 'archives .jsonl.zst files' : 'stops the archiver with reason unsupported, reading nothing'} (Node ${process.version})`, async () => {
    const topic = uniqueName('zstd')
    await createTopic(topic, 1)
    await produce(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ value: JSON.stringify({ i }) })),
    )
    const dir = mkdtempSync(join(tmpdir(), 'kdp-zstd-'))
    const config = topicConfig(topic, {
      pathTemplate: 'all',
      compression: 'zstd',
      rotation: { maxRecords: 20 },
    })
    const { metrics } = runArchiver(config, `file://${dir}`)
    const sink = openSink(`file://${dir}`)
    if (!nodeHasZstd) {
      const stopped = await eventually('stopped', () => metrics.stopped.list()[0])
      expect(stopped).toMatchObject({ topic, reason: 'unsupported' })
      expect(stopped.error).toContain('zstd needs Node.js 22.15')
      expect(metrics.recordsConsumed).toBe(0)
      expect(await sink.list()).toEqual([])
      return
    }
    await eventually('20 archived', () => (metrics.recordsArchived === 20 ? true : undefined))
    expect(await sink.list()).toEqual([`all/${topic}+0+0.jsonl.zst`])
    const lines = decompress(await sink.get(`all/${topic}+0+0.jsonl.zst`), 'zstd')
      .toString()
      .trim()
      .split('\n')
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    )
  })
})

/** An open file of `count` records, compressed while open by `compression` if given. */
function fill(count: number, compression?: OpenFileCompression) {
  const rotation = new FileRotation({
    maxBytes: 1e12,
    maxRecords: 1e9,
    maxSpanMs: 1e12,
    maxAgeMs: null,
    idleMs: null,
  })
  let file = rotation.append('p', record(0), 0, 'jsonl', compression?.chunks)
  compression?.advance(file)
  for (let i = 1; i < count; i++) {
    file = rotation.append('p', record(i), 0, 'jsonl', compression?.chunks)
    compression?.advance(file)
  }
  return rotation.takeAll()[0] ?? file
}

function record(i: number) {
  return {
    offset: i,
    body: Buffer.from(`{"i":${i},"pad":"${'x'.repeat(200)}"}`),
    timeMs: 0,
    sortKey: undefined,
  }
}
