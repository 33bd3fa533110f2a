// The cuts log and conditional writes against the real broker and sinks: a cut that a replay
// cannot see (an idle partition, here) is cut at the same place by the next owner after a crash,
// and an object of another cut under a file's key is never replaced.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { describe, expect, inject, it } from 'vitest'
import { archiveGroupId } from '../../../src/processes/archiver/index.js'
import { openSink } from '../../../src/sinks/openSink.js'
import type { Sink } from '../../../src/sinks/sink.js'
import { motoS3 } from '../../helpers/aws.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import {
  cleanups,
  createTopic,
  kafka,
  produce,
  readArchive,
  runArchiver,
  s3Options,
  topicConfig,
} from './harness.js'

/** A sink whose uploads land and then never return: the node "crashes" between upload and commit. */
function landsThenHangs(inner: Sink, landed: string[]): Sink {
  return {
    url: inner.url,
    put: (key, body, metadata, signal) => inner.put(key, body, metadata, signal),
    create: async (key, body, metadata, signal) => {
      await inner.create(key, body, metadata, signal)
      landed.push(key)
      return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))))
    },
    list: (prefix) => inner.list(prefix),
    get: (key) => inner.get(key),
    close: () => inner.close(),
  }
}

async function committed(groupId: string, topic: string): Promise<string | undefined> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions[0]?.offset
  } finally {
    await admin.disconnect()
  }
}

describe('the cuts log', () => {
  it('replays an idle cut after a crash between upload and commit, although the new owner would cut elsewhere', async () => {
    const topic = uniqueName('cuts')
    await createTopic(topic, 1)
    const cluster = uniqueName('arch')
    const groupId = archiveGroupId(cluster, topic, 'main')
    const bucket = uniqueName('cuts-bucket')
    await motoS3().send(new CreateBucketCommand({ Bucket: bucket }))
    const url = `s3://${bucket}/a`
    const open = (u: string) => openSink(u, s3Options(inject('motoEndpoint')))
    await produce(
      topic,
      Array.from({ length: 25 }, (_, i) => ({ value: JSON.stringify({ i }) })),
    )
    // First owner: only the idle rule cuts (after 300 ms without a record): one cut of 25 records.
    const landed: string[] = []
    const first = runArchiver(
      topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 1000, idleMs: 300 } }),
      url,
      { cluster, open: (u) => landsThenHangs(open(u), landed) },
    )
    await eventually('the idle cut uploaded', () => (landed.length === 1 ? true : undefined))
    await first.stop()
    expect(await committed(groupId, topic)).toBe('-1')

    // Next owner, another config: files of 10 records and no idle rule. Without the recorded cut it
    // would write a 10-record file under the 25-record file's key.
    await produce(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ value: JSON.stringify({ i: 25 + i }) })),
    )
    const second = runArchiver(
      topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 10, idleMs: null } }),
      url,
      { cluster, open },
    )
    await eventually('committed to 35', async () =>
      (await committed(groupId, topic)) === '35' ? true : undefined,
    )
    expect(second.metrics.stopped.list()).toEqual([])
    const sink = open(url)
    expect(await sink.list()).toEqual([`all/${topic}+0+0.jsonl.gz`, `all/${topic}+0+25.jsonl.gz`])
    const lines = await readArchive(sink)
    expect(lines.filter((l) => l.key.endsWith('+0.jsonl.gz'))).toHaveLength(25)
    expect(lines.map((l) => (JSON.parse(l.line) as { i: number }).i)).toEqual(
      Array.from({ length: 35 }, (_, i) => i),
    )
    // The replayed file was found stored by the first owner; only the new one was uploaded now.
    expect(second.metrics.filesWritten).toBe(2)
    expect(second.metrics.recordsArchived).toBe(35)
  })

  it('never replaces an object of another cut: the archiver stops, visibly, and commits nothing', async () => {
    const topic = uniqueName('conflict')
    await createTopic(topic, 1)
    const cluster = uniqueName('arch')
    const groupId = archiveGroupId(cluster, topic, 'main')
    const dir = mkdtempSync(join(tmpdir(), 'kdp-conflict-'))
    const sink = openSink(`file://${dir}`)
    cleanups.push(() => sink.close())
    // What a zombie (or another config) left under the key the archiver will use.
    await sink.put(`all/${topic}+0+0.jsonl`, Buffer.from('{"zombie":true}\n'), {
      contentType: 'application/x-ndjson',
    })
    await produce(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ value: JSON.stringify({ i }) })),
    )
    const { metrics } = runArchiver(
      topicConfig(topic, { pathTemplate: 'all', compression: 'none', rotation: { maxRecords: 10 } }),
      `file://${dir}`,
      { cluster },
    )
    const stopped = await eventually('the archiver stopped', () => metrics.stopped.list()[0])
    expect(stopped).toMatchObject({ topic, sink: 'main', reason: 'conflicting-object' })
    expect(stopped.error).toContain(`all/${topic}+0+0.jsonl`)
    expect((await sink.get(`all/${topic}+0+0.jsonl`)).toString()).toBe('{"zombie":true}\n')
    expect(await committed(groupId, topic)).toBe('-1')
    expect(metrics.recordsArchived).toBe(0)
  })
})
