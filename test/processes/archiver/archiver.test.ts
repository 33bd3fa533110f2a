// The archiver against the suite's real broker, a real file-system sink and S3 on moto.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { describe, expect, inject, it } from 'vitest'
import { archiveGroupId } from '../../../src/processes/archiver/index.js'
import { openSink } from '../../../src/sinks/openSink.js'
import { motoS3 } from '../../helpers/aws.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { startTcpProxy } from '../../helpers/tcpProxy.js'
import {
  cleanups,
  createTopic,
  kafka,
  produce,
  readArchive,
  readDeadLetters,
  runArchiver,
  s3Options,
  topicConfig,
} from './harness.js'

describe('the archiver', () => {
  it('partitions by a field and the hour of a record time, in gzip JSON Lines with deterministic names', async () => {
    const topic = uniqueName('orders')
    await createTopic(topic, 2)
    const base = Date.UTC(2026, 10, 22, 13, 0, 0)
    const messages = Array.from({ length: 240 }, (_, i) => ({
      partition: i % 2,
      value: JSON.stringify({
        id: i,
        client: i % 3 === 0 ? 'acme' : 'beta',
        ts: base + (i % 4) * 3_600_000 + i,
      }),
    }))
    await produce(topic, messages)
    const dir = mkdtempSync(join(tmpdir(), 'kdp-archive-'))
    const config = topicConfig(topic, {
      pathTemplate: 'dt={date}/hr={hour}/client={$.client}',
      time: { field: '$.ts', format: 'epoch-ms' },
      rotation: { maxRecords: 1000, maxAgeMs: 500 },
    })
    const { metrics } = runArchiver(config, `file://${dir}`)
    await eventually('all 240 archived', () => (metrics.recordsArchived === 240 ? true : undefined))
    const sink = openSink(`file://${dir}`)
    const lines = await readArchive(sink)
    expect(lines).toHaveLength(240)
    for (const { key, line } of lines) {
      const record = JSON.parse(line) as { ts: number; client: string }
      const hour = String(new Date(record.ts).getUTCHours()).padStart(2, '0')
      expect(key).toMatch(
        new RegExp(`^dt=2026-11-22/hr=${hour}/client=${record.client}/${topic}\\+[01]\\+\\d+\\.jsonl\\.gz$`),
      )
    }
    expect(new Set(lines.map((l) => l.key.split('/').slice(0, 2).join('/')))).toEqual(
      new Set(['dt=2026-11-22/hr=13', 'dt=2026-11-22/hr=14', 'dt=2026-11-22/hr=15', 'dt=2026-11-22/hr=16']),
    )
  })

  it('applies each rotation rule: max records, max bytes, max record-time span', async () => {
    const topic = uniqueName('rot')
    await createTopic(topic, 1)
    const base = Date.UTC(2026, 0, 1)
    await produce(
      topic,
      Array.from({ length: 100 }, (_, i) => ({
        value: JSON.stringify({ i, ts: base + i * 1000, pad: 'x'.repeat(50) }),
      })),
    )
    const cases = [
      { rotation: { maxRecords: 10 }, check: (records: number[][]) => records.every((r) => r.length === 10) },
      {
        rotation: { maxBytes: 700 },
        check: (records: number[][]) => records.slice(0, -1).every((r) => r.length >= 9 && r.length <= 10),
      },
      {
        rotation: { maxSpanMs: 20_000 },
        check: (records: number[][]) => records.every((r) => (r.at(-1)! - r[0]!) * 1000 <= 20_000),
      },
    ]
    for (const { rotation, check } of cases) {
      const dir = mkdtempSync(join(tmpdir(), 'kdp-rot-'))
      const config = topicConfig(topic, {
        pathTemplate: 'all',
        compression: 'none',
        time: { field: '$.ts' },
        rotation: { ...rotation, maxAgeMs: 1000 },
      })
      const { metrics, stop } = runArchiver(config, `file://${dir}`)
      await eventually(`100 archived with ${JSON.stringify(rotation)}`, () =>
        metrics.recordsArchived === 100 ? true : undefined,
      )
      await stop()
      const sink = openSink(`file://${dir}`)
      const files = await Promise.all(
        (await sink.list()).map(async (k) =>
          (await sink.get(k))
            .toString()
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as { i: number }).i),
        ),
      )
      expect(files.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i))
      expect(check(files.sort((a, b) => a[0]! - b[0]!)), JSON.stringify(rotation)).toBe(true)
    }
  })

  it('sends malformed JSON and records without the time field to the dead-letter topic, with the reason', async () => {
    const topic = uniqueName('dlq')
    await createTopic(topic, 1)
    await produce(topic, [
      { value: JSON.stringify({ ts: Date.now(), ok: 1 }) },
      { key: 'k1', value: '{"broken', headers: { trace: 't-1' } },
      { value: JSON.stringify({ ok: 2 }) },
      { value: JSON.stringify({ ts: 'yesterday', ok: 3 }) },
      { value: JSON.stringify({ ts: Date.now(), ok: 4 }) },
    ])
    const dir = mkdtempSync(join(tmpdir(), 'kdp-dlq-'))
    const config = topicConfig(topic, { time: { field: '$.ts' }, rotation: { maxAgeMs: 300 } })
    const { metrics } = runArchiver(config, `file://${dir}`)
    await eventually('2 archived', () => (metrics.recordsArchived === 2 ? true : undefined))
    const dead = await readDeadLetters(topic, 3)
    expect(dead[0]).toMatchObject({
      key: 'k1',
      value: '{"broken',
      headers: {
        trace: 't-1',
        'kdp-source-topic': topic,
        'kdp-source-partition': '0',
        'kdp-source-offset': '1',
      },
    })
    expect(dead[0]!.headers['kdp-error-reason']).toMatch(/^not JSON/)
    expect(dead[1]!.headers['kdp-error-reason']).toBe('time field $.ts: missing')
    expect(dead[2]!.headers['kdp-error-reason']).toMatch(/^time field \$\.ts: expected a number/)
    expect(
      (await readArchive(openSink(`file://${dir}`)))
        .map((l) => (JSON.parse(l.line) as { ok: number }).ok)
        .sort(),
    ).toEqual([1, 4])
    expect(metrics.badRecords).toBe(3)
  })

  it('archives lines as they are (text, not checked), and sends a value with a newline to the dead letters', async () => {
    const topic = uniqueName('lines')
    await createTopic(topic, 1)
    const values = ['plain text', '{"id":1}', 'two\nlines', '{"not closed', 'ünïcödé ✓']
    await produce(
      topic,
      values.map((value) => ({ value })),
    )
    const dir = mkdtempSync(join(tmpdir(), 'kdp-lines-'))
    const { metrics } = runArchiver(
      topicConfig(topic, { format: 'lines', rotation: { maxAgeMs: 300 } }),
      `file://${dir}`,
    )
    await eventually('4 archived', () => (metrics.recordsArchived === 4 ? true : undefined))
    const dead = await readDeadLetters(topic, 1)
    expect(dead[0]).toMatchObject({ value: 'two\nlines', headers: { 'kdp-source-offset': '2' } })
    expect(dead[0]!.headers['kdp-error-reason']).toBe('the value holds a newline: a line must be one line')
    const archive = await readArchive(openSink(`file://${dir}`))
    expect(archive.map((l) => l.line)).toEqual(['plain text', '{"id":1}', '{"not closed', 'ünïcödé ✓'])
    expect(archive.every((l) => l.key.endsWith('.txt.gz'))).toBe(true)
    expect(metrics.badRecords).toBe(1)
  })

  it('resumes from the committed offset after a restart, without archiving anything twice', async () => {
    const topic = uniqueName('resume')
    await createTopic(topic, 1)
    const cluster = uniqueName('arch')
    const dir = mkdtempSync(join(tmpdir(), 'kdp-resume-'))
    const config = topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 25 } })
    await produce(
      topic,
      Array.from({ length: 100 }, (_, i) => ({ value: JSON.stringify({ i }) })),
    )
    const first = runArchiver(config, `file://${dir}`, { cluster })
    await eventually('first 100', () => (first.metrics.recordsArchived === 100 ? true : undefined))
    await first.stop()
    await produce(
      topic,
      Array.from({ length: 50 }, (_, i) => ({ value: JSON.stringify({ i: 100 + i }) })),
    )
    const second = runArchiver(config, `file://${dir}`, { cluster })
    await eventually('next 50', () => (second.metrics.recordsArchived === 50 ? true : undefined))
    const lines = await readArchive(openSink(`file://${dir}`))
    expect(lines.map((l) => (JSON.parse(l.line) as { i: number }).i).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 150 }, (_, i) => i),
    )
    expect(second.metrics.recordsConsumed).toBe(50)
  })

  it('survives an S3 outage: no commit while S3 is unreachable, everything archived once it returns', async () => {
    const topic = uniqueName('outage')
    await createTopic(topic, 1)
    const bucket = uniqueName('outage-bucket')
    await motoS3().send(new CreateBucketCommand({ Bucket: bucket }))
    const proxy = await startTcpProxy(Number(new URL(inject('motoEndpoint')).port))
    cleanups.push(() => proxy.close())
    const cluster = uniqueName('arch')
    const config = topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 20 } })
    await proxy.cut()
    await produce(
      topic,
      Array.from({ length: 60 }, (_, i) => ({ value: JSON.stringify({ i }) })),
    )
    const { metrics } = runArchiver(config, `s3://${bucket}/raw`, {
      cluster,
      open: (url) => openSink(url, s3Options(`http://127.0.0.1:${proxy.port}`)),
    })
    await eventually('uploads failing', () => (metrics.uploadFailures >= 2 ? true : undefined))
    const admin = kafka.admin()
    await admin.connect()
    const committed = await admin.fetchOffsets({
      groupId: archiveGroupId(cluster, topic, 'main'),
      topics: [topic],
    })
    expect(committed[0]?.partitions[0]?.offset).toBe('-1')
    expect(metrics.recordsArchived).toBe(0)
    await proxy.restore()
    await eventually(
      '60 archived after the outage',
      () => (metrics.recordsArchived === 60 ? true : undefined),
      90_000,
    )
    await eventually('offset committed', async () => {
      const after = await admin.fetchOffsets({
        groupId: archiveGroupId(cluster, topic, 'main'),
        topics: [topic],
      })
      return after[0]?.partitions[0]?.offset === '60' ? true : undefined
    })
    await admin.disconnect()
    const lines = await readArchive(openSink(`s3://${bucket}/raw`, s3Options(inject('motoEndpoint'))))
    expect(lines.map((l) => (JSON.parse(l.line) as { i: number }).i).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, i) => i),
    )
  })

  it('writes multi-megabyte gzip files to S3 (compressed while open) that read back record for record', async () => {
    const topic = uniqueName('large')
    await createTopic(topic, 2)
    const bucket = uniqueName('large-bucket')
    await motoS3().send(new CreateBucketCommand({ Bucket: bucket }))
    // 2 × 3,000 records of ~1 KiB: files of 2,500 (~2.5 MB, compressed from their first MiB on) and
    // the 500-record rests, which are compressed only when cut.
    const messages = Array.from({ length: 6000 }, (_, i) => ({
      partition: i % 2,
      value: JSON.stringify({ i, text: `${i} `.repeat(250).slice(0, 1000) }),
    }))
    await produce(topic, messages)
    const config = topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 2500, maxAgeMs: 500 } })
    const { metrics } = runArchiver(config, `s3://${bucket}/big`, {
      open: (url) => openSink(url, s3Options(inject('motoEndpoint'))),
    })
    await eventually('6,000 archived', () => (metrics.recordsArchived === 6000 ? true : undefined), 60_000)
    const sink = openSink(`s3://${bucket}/big`, s3Options(inject('motoEndpoint')))
    const keys = await sink.list()
    expect(keys.sort()).toEqual(
      [`${topic}+0+0`, `${topic}+0+2500`, `${topic}+1+0`, `${topic}+1+2500`].map((k) => `all/${k}.jsonl.gz`),
    )
    const lines = await readArchive(sink)
    const byPartition = [0, 1].map((p) =>
      lines.filter((l) => l.key.includes(`+${p}+`)).map((l) => JSON.parse(l.line) as { i: number }),
    )
    // In offset order inside each partition, every record once.
    expect(byPartition[0]?.map((r) => r.i)).toEqual(Array.from({ length: 3000 }, (_, k) => 2 * k))
    expect(byPartition[1]?.map((r) => r.i)).toEqual(Array.from({ length: 3000 }, (_, k) => 2 * k + 1))
    expect(lines.map((l) => l.line)).toEqual(
      expect.arrayContaining(messages.slice(0, 10).map((m) => m.value)),
    )
  })

  it('archives one topic to two sinks independently, each with its own group and offsets', async () => {
    const topic = uniqueName('two')
    await createTopic(topic, 2)
    const bucket = uniqueName('two-bucket')
    await motoS3().send(new CreateBucketCommand({ Bucket: bucket }))
    await produce(
      topic,
      Array.from({ length: 80 }, (_, i) => ({ partition: i % 2, value: JSON.stringify({ i }) })),
    )
    const cluster = uniqueName('arch')
    const dir = mkdtempSync(join(tmpdir(), 'kdp-two-'))
    const config = topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 10 } })
    const local = runArchiver(config, `file://${dir}`, { cluster, sinkId: 'local' })
    const s3 = runArchiver(config, `s3://${bucket}/copy`, {
      cluster,
      sinkId: 's3',
      open: (url) => openSink(url, s3Options(inject('motoEndpoint'))),
    })
    await eventually('both archived 80', () =>
      local.metrics.recordsArchived === 80 && s3.metrics.recordsArchived === 80 ? true : undefined,
    )
    const want = Array.from({ length: 80 }, (_, i) => i)
    const ids = (lines: Array<{ line: string }>) =>
      lines.map((l) => (JSON.parse(l.line) as { i: number }).i).sort((a, b) => a - b)
    expect(ids(await readArchive(openSink(`file://${dir}`)))).toEqual(want)
    expect(
      ids(await readArchive(openSink(`s3://${bucket}/copy`, s3Options(inject('motoEndpoint'))))),
    ).toEqual(want)
    expect(archiveGroupId(cluster, topic, 'local')).not.toBe(archiveGroupId(cluster, topic, 's3'))
  })

  it('keeps memory bounded: at the in-flight bound the largest buffer is flushed early', async () => {
    const topic = uniqueName('bound')
    await createTopic(topic, 2)
    await produce(
      topic,
      Array.from({ length: 400 }, (_, i) => ({ partition: i % 2, value: JSON.stringify({ i }) })),
    )
    const dir = mkdtempSync(join(tmpdir(), 'kdp-bound-'))
    // Rotation alone would keep every record in memory (1,000 per file, no age); the bound is 25.
    const config = topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 1000 } })
    const { metrics } = runArchiver(config, `file://${dir}`, { maxMessages: 25 })
    await eventually('400 archived', () => (metrics.recordsArchived === 400 ? true : undefined))
    const sink = openSink(`file://${dir}`)
    const files = await Promise.all(
      (await sink.list()).map(async (k) =>
        gunzipSync(await sink.get(k))
          .toString()
          .trim()
          .split('\n'),
      ),
    )
    expect(Math.max(...files.map((f) => f.length))).toBeLessThanOrEqual(25)
    const ids = files.flat().map((l) => (JSON.parse(l) as { i: number }).i)
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i))
  })
})
