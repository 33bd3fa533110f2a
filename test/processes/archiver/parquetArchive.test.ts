// Archiving topics as Parquet on the suite's real broker to the file sink, every file read back by
// DuckDB (a real reader, from the project's venv): every record exactly once, with its types.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, inject, it } from 'vitest'
import { type Compression, compressionProblem } from '../../../src/processes/archiver/compression.js'
import { openSink } from '../../../src/sinks/openSink.js'
import { motoS3 } from '../../helpers/aws.js'
import { duckdbQuery } from '../../helpers/duckdb.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { createTopic, kafka, runArchiver, s3Options, topicConfig } from './harness.js'

const nodeHasZstd = compressionProblem('zstd') === undefined
const BASE_MS = Date.UTC(2026, 0, 2, 3, 4, 5, 0)

async function produceAt(
  topic: string,
  messages: Array<{ partition: number; key: string | null; value: string; timestamp: number }>,
) {
  const producer = kafka.producer()
  await producer.connect()
  for (let i = 0; i < messages.length; i += 500)
    await producer.send({
      topic,
      messages: messages.slice(i, i + 500).map((m) => ({ ...m, timestamp: String(m.timestamp) })),
    })
  await producer.disconnect()
}

async function deadLetters(topic: string, count: number) {
  const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader') })
  const dead: Array<{ value: string; reason: string }> = []
  await consumer.connect()
  await consumer.subscribe({ topic: `${topic}.dlq`, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) =>
      void dead.push({
        value: message.value?.toString() ?? '',
        reason: String(message.headers?.['kdp-error-reason'] ?? ''),
      }),
  })
  await eventually(`${count} dead letters`, () => (dead.length >= count ? true : undefined))
  await consumer.disconnect()
  return dead
}

function parquetFiles(dir: string, keys: readonly string[]): string[] {
  return keys.map((key) => join(dir, key))
}

describe('archiving as Parquet', () => {
  const codecs: Compression[] = ['snappy', 'gzip', ...(nodeHasZstd ? (['zstd'] as const) : [])]
  it.each(codecs)(
    'stores every record of every partition exactly once, readable by DuckDB (%s)',
    async (codec) => {
      const topic = uniqueName(`pq-${codec}`)
      await createTopic(topic, 3)
      const good = Array.from({ length: 600 }, (_, i) => ({
        partition: i % 3,
        key: i % 10 === 0 ? null : `user-${i % 7}`,
        value: JSON.stringify({
          i,
          name: `n${i}`,
          score: i / 4,
          ok: i % 2 === 0,
          tags: i % 5 === 0 ? ['a', i] : { nested: i },
          ...(i % 3 === 1 && { sometimes: 'here' }),
        }),
        timestamp: BASE_MS + i,
      }))
      const bad = [0, 1, 2, 0, 1].map((partition, j) => ({
        partition,
        key: `bad-${j}`,
        value: `{"broken ${j}`,
        timestamp: BASE_MS,
      }))
      // Bad records among the good ones, so that they fall inside files.
      await produceAt(topic, [...good.slice(0, 300), ...bad, ...good.slice(300)])
      const dir = mkdtempSync(join(tmpdir(), 'kdp-parquet-archive-'))
      const config = topicConfig(topic, {
        format: 'parquet',
        compression: codec,
        rotation: { maxRecords: 70, idleMs: 500 },
      })
      const { metrics } = runArchiver(config, `file://${dir}`)
      await eventually('600 archived', () => (metrics.recordsArchived === 600 ? true : undefined))
      expect(metrics.stopped.list()).toEqual([])
      const keys = await openSink(`file://${dir}`).list()
      expect(keys.length).toBeGreaterThanOrEqual(9) // 200 a partition, 70 a file
      for (const key of keys)
        expect(key).toMatch(new RegExp(`^dt=2026-01-02/hr=03/${topic}\\+[0-2]\\+\\d+\\.parquet$`))
      const files = parquetFiles(dir, keys)
      const { version, results } = await duckdbQuery(files, [
        `SELECT count(*), count(DISTINCT (_kafka_partition, _kafka_offset)), count(DISTINCT i), sum(i),
           min(_kafka_timestamp), max(_kafka_timestamp), count(_kafka_key), count(sometimes) FROM FILES`,
        `SELECT DISTINCT typeof(_kafka_partition), typeof(_kafka_offset), typeof(_kafka_timestamp),
           typeof(_kafka_key), typeof(i), typeof(name), typeof(score), typeof(ok), typeof(tags) FROM FILES`,
        `SELECT DISTINCT compression FROM parquet_metadata($files)`,
        // Each record's columns hold its own values: the name and key follow from i.
        `SELECT count(*) FROM FILES WHERE name <> 'n' || i OR _kafka_partition <> i % 3
           OR _kafka_timestamp <> make_timestamp(${BASE_MS * 1000} + i * 1000)`,
        `SELECT i, tags::VARCHAR FROM FILES WHERE i IN (0, 1) ORDER BY i`,
      ])
      expect(version).toBe('2.0.1')
      expect(results[0]).toEqual([
        [
          600,
          600,
          600,
          (599 * 600) / 2,
          '2026-01-02T03:04:05+00:00',
          '2026-01-02T03:04:05.599000+00:00',
          540,
          200,
        ],
      ])
      expect(results[1]).toEqual([
        [
          'INTEGER',
          'BIGINT',
          'TIMESTAMP WITH TIME ZONE',
          'VARCHAR',
          'BIGINT',
          'VARCHAR',
          'DOUBLE',
          'BOOLEAN',
          'JSON',
        ],
      ])
      expect(results[2]).toEqual([[codec.toUpperCase()]])
      expect(results[3]).toEqual([[0]])
      expect(results[4]).toEqual([
        [0, '["a",0]'],
        [1, '{"nested":1}'],
      ])
      const dead = await deadLetters(topic, 5)
      expect(dead.map((d) => d.value).sort()).toEqual(bad.map((b) => b.value).sort())
      for (const d of dead) expect(d.reason).toMatch(/^not JSON/)
    },
  )

  it('writes a configured schema, and a record that does not fit it goes to the dead-letter topic', async () => {
    const topic = uniqueName('pq-schema')
    await createTopic(topic, 1)
    const values = [
      { id: 1, at: '2026-01-02T03:04:05.678Z', user: { name: 'ann' } },
      { id: 'two', at: '2026-01-02T03:04:05Z' },
      { id: 3, at: null, extra: true },
    ]
    await produceAt(
      topic,
      values.map((v, i) => ({ partition: 0, key: null, value: JSON.stringify(v), timestamp: BASE_MS + i })),
    )
    const dir = mkdtempSync(join(tmpdir(), 'kdp-parquet-schema-'))
    const config = topicConfig(topic, {
      format: 'parquet',
      compression: 'snappy',
      pathTemplate: 'all',
      parquet: {
        schema: [
          { name: 'id', type: 'int64', nullable: false },
          { name: 'at', type: 'timestamp', timeFormat: 'iso' },
          { name: 'user', path: '$.user.name', type: 'string' },
        ],
      },
      rotation: { idleMs: 300 },
    })
    const { metrics } = runArchiver(config, `file://${dir}`)
    await eventually('2 archived', () => (metrics.recordsArchived === 2 ? true : undefined))
    const keys = await openSink(`file://${dir}`).list()
    expect(keys).toEqual([`all/${topic}+0+0.parquet`])
    const { results } = await duckdbQuery(parquetFiles(dir, keys), [
      `SELECT _kafka_offset, id, "at", "user", _kafka_key FROM FILES ORDER BY id`,
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM FILES)`,
    ])
    expect(results[0]).toEqual([
      [0, 1, '2026-01-02T03:04:05.678000+00:00', 'ann', null],
      [2, 3, null, null, null],
    ])
    expect(results[1]).toEqual([
      ['_kafka_partition', 'INTEGER'],
      ['_kafka_offset', 'BIGINT'],
      ['_kafka_timestamp', 'TIMESTAMP WITH TIME ZONE'],
      ['_kafka_key', 'VARCHAR'],
      ['id', 'BIGINT'],
      ['at', 'TIMESTAMP WITH TIME ZONE'],
      ['user', 'VARCHAR'],
    ])
    const [dead] = await deadLetters(topic, 1)
    expect(dead?.reason).toBe('parquet column id ($.id): expected an integer, got "two"')
  })

  it('cuts early at the in-flight memory bound, which counts the buffered records, and still stores each once', async () => {
    const topic = uniqueName('pq-memory')
    await createTopic(topic, 2)
    await produceAt(
      topic,
      Array.from({ length: 400 }, (_, i) => ({
        partition: i % 2,
        key: `key-${i}`,
        value: JSON.stringify({ i, pad: 'p'.repeat(200) }),
        timestamp: BASE_MS + i,
      })),
    )
    const dir = mkdtempSync(join(tmpdir(), 'kdp-parquet-memory-'))
    const config = topicConfig(topic, {
      format: 'parquet',
      compression: 'gzip',
      pathTemplate: 'all',
      rotation: { idleMs: 500 },
    })
    // About 230 bytes a record: the bound holds some 90 records, far below maxRecords.
    const { metrics } = runArchiver(config, `file://${dir}`, { maxBytes: 20_000 })
    await eventually('400 archived', () => (metrics.recordsArchived === 400 ? true : undefined))
    const keys = await openSink(`file://${dir}`).list()
    expect(keys.length).toBeGreaterThan(4)
    const { results } = await duckdbQuery(parquetFiles(dir, keys), [
      'SELECT count(*), count(DISTINCT (_kafka_partition, _kafka_offset)), count(DISTINCT i) FROM FILES',
    ])
    expect(results[0]).toEqual([[400, 400, 400]])
  })

  it('writes the same bytes again for the same cut: a second archive group finds its files already stored', async () => {
    const topic = uniqueName('pq-replay')
    await createTopic(topic, 1)
    await produceAt(
      topic,
      Array.from({ length: 200 }, (_, i) => ({
        partition: 0,
        key: `k${i % 4}`,
        value: JSON.stringify({ i, v: { deep: [i, `${i}`] } }),
        timestamp: BASE_MS + i,
      })),
    )
    const dir = mkdtempSync(join(tmpdir(), 'kdp-parquet-replay-'))
    const config = topicConfig(topic, {
      format: 'parquet',
      compression: 'gzip',
      pathTemplate: 'all',
      rotation: { maxRecords: 50, idleMs: null },
    })
    const sink = openSink(`file://${dir}`)
    const first = runArchiver(config, `file://${dir}`)
    await eventually('200 archived', () => (first.metrics.recordsArchived === 200 ? true : undefined))
    await first.stop()
    const keys = await sink.list()
    expect(keys).toHaveLength(4)
    const bodies = await Promise.all(keys.map((k) => sink.get(k)))
    // Another cluster name: another consumer group and cuts log, so it reads from the start and cuts
    // the same files; the file sink keeps no metadata, so each is compared byte by byte.
    const second = runArchiver(config, `file://${dir}`)
    await eventually('200 archived again', () => (second.metrics.recordsArchived === 200 ? true : undefined))
    expect(second.metrics.stopped.list()).toEqual([])
    expect(await sink.list()).toEqual(keys)
    for (const [i, key] of keys.entries())
      expect((await sink.get(key)).equals(bodies[i] as Buffer)).toBe(true)
    const { results } = await duckdbQuery(parquetFiles(dir, keys), [
      'SELECT count(*), count(DISTINCT _kafka_offset), min(i), max(i) FROM FILES',
    ])
    expect(results[0]).toEqual([[200, 200, 0, 199]])
  })

  it('uploads to S3 as application/vnd.apache.parquet without a Content-Encoding, and a second group finds its objects stored', async () => {
    const topic = uniqueName('pq-s3')
    await createTopic(topic, 1)
    await produceAt(
      topic,
      Array.from({ length: 120 }, (_, i) => ({
        partition: 0,
        key: null,
        value: JSON.stringify({ i }),
        timestamp: BASE_MS + i,
      })),
    )
    const s3 = motoS3()
    const bucket = uniqueName('kdp-parquet')
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    const url = `s3://${bucket}/pq`
    const open = (u: string) => openSink(u, s3Options(inject('motoEndpoint')))
    const config = topicConfig(topic, {
      format: 'parquet',
      compression: 'snappy',
      pathTemplate: 'all',
      rotation: { maxRecords: 60, idleMs: null },
    })
    const first = runArchiver(config, url, { open })
    await eventually('120 archived', () => (first.metrics.recordsArchived === 120 ? true : undefined))
    await first.stop()
    const second = runArchiver(config, url, { open })
    await eventually('120 archived again', () => (second.metrics.recordsArchived === 120 ? true : undefined))
    expect(second.metrics.stopped.list()).toEqual([])
    const sink = open(url)
    const keys = await sink.list()
    expect(keys).toEqual([`all/${topic}+0+0.parquet`, `all/${topic}+0+60.parquet`])
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `pq/all/${topic}+0+60.parquet` }))
    expect(head.ContentType).toBe('application/vnd.apache.parquet')
    expect(head.ContentEncoding).toBeUndefined()
    expect(head.Metadata).toMatchObject({
      'kdp-first-offset': '60',
      'kdp-last-offset': '119',
      'kdp-records': '60',
    })
    const dir = mkdtempSync(join(tmpdir(), 'kdp-parquet-s3-'))
    const files = await Promise.all(
      keys.map(async (key, n) => {
        const file = join(dir, `${n}.parquet`)
        writeFileSync(file, await sink.get(key))
        return file
      }),
    )
    const { results } = await duckdbQuery(files, [
      'SELECT count(*), count(DISTINCT i), min(i), max(i) FROM FILES',
    ])
    expect(results[0]).toEqual([[120, 120, 0, 119]])
    s3.destroy()
  })
})
