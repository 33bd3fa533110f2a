// The load signals of an archiver (unread lag, buffered, committed lag, rates, upload latency) against
// the suite's real broker and a real file-system sink whose puts can be held back.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ArchiveMetrics } from '../../../src/processes/archiver/metrics.js'
import type { PartitionLoad } from '../../../src/processes/state/status.js'
import { openSink } from '../../../src/sinks/openSink.js'
import type { Sink } from '../../../src/sinks/sink.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { createTopic, produce, runArchiver, topicConfig } from './harness.js'

/** A file sink whose puts wait until `open()` (the sink of a slow or unreachable store). */
function gatedSink(url: string) {
  const inner = openSink(url)
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  const sink: Sink = {
    url: inner.url,
    put: async (key, body, metadata, signal) => {
      await gate
      await inner.put(key, body, metadata, signal)
    },
    // The archiver creates its objects: this is the call the gate holds.
    create: async (key, body, metadata, signal) => {
      await gate
      return inner.create(key, body, metadata, signal)
    },
    list: (prefix) => inner.list(prefix),
    get: (key) => inner.get(key),
    close: () => inner.close(),
  }
  return { sink, open }
}

const records = (count: number, partition = 0) =>
  Array.from({ length: count }, (_, i) => ({ partition, value: JSON.stringify({ i, pad: 'x'.repeat(40) }) }))

/** The load of one partition in the next sample of `metrics` that satisfies `ok`. */
function loadWhere(metrics: ArchiveMetrics, what: string, ok: (load: PartitionLoad) => boolean) {
  return eventually(what, () => metrics.sampleLoads().find(ok))
}

describe('the load signals of an archiver', () => {
  it('counts records waiting in an open file as buffered and committed lag, never as unread lag', async () => {
    const topic = uniqueName('open')
    await createTopic(topic, 1)
    await produce(topic, records(50))
    const dir = mkdtempSync(join(tmpdir(), 'kdp-load-'))
    const { metrics } = runArchiver(topicConfig(topic, { pathTemplate: 'all' }), `file://${dir}`, {
      sinkId: 'local',
    })
    const load = await loadWhere(metrics, 'all 50 read', (l) => l.bufferedRecords === 50)
    expect(load).toMatchObject({ topic, sink: 'local', partition: 0, unreadLag: 0, committedLag: 50 })
    expect(load.bufferedBytes).toBeGreaterThan(50 * 40)
    expect(load.uploadLatencyMs).toBeNull()
  })

  it('while uploads are held back: unread + buffered = committed lag; then all drain to zero', async () => {
    const topic = uniqueName('held')
    await createTopic(topic, 1)
    await produce(topic, records(1000))
    const dir = mkdtempSync(join(tmpdir(), 'kdp-load-'))
    const { sink, open } = gatedSink(`file://${dir}`)
    const { metrics, stop } = runArchiver(
      topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 100 } }),
      `file://${dir}`,
      { open: () => sink, maxMessages: 250 },
    )
    // Reading stops at the in-flight bound: part of the topic read and buffered, the rest unread.
    const held = await loadWhere(
      metrics,
      'reading stopped at the bound',
      (l) => l.bufferedRecords >= 250 && l.unreadLag > 0,
    )
    expect(held.unreadLag + held.bufferedRecords).toBe(1000)
    expect(held.committedLag).toBe(1000)
    expect(held.recordsOutPerSec).toBe(0)
    const before = metrics.owned()[0]!.counters
    expect(before.recordsIn).toBe(held.bufferedRecords)

    open()
    await eventually('all 1000 archived', () => (metrics.recordsArchived === 1000 ? true : undefined))
    const drained = await loadWhere(metrics, 'everything committed', (l) => l.committedLag === 0)
    expect(drained).toMatchObject({ unreadLag: 0, bufferedRecords: 0, bufferedBytes: 0 })
    const counters = metrics.owned()[0]!.counters
    expect([counters.recordsIn, counters.recordsOut, counters.committed]).toEqual([1000, 1000, 1000])
    expect(metrics.bytesConsumed).toBe(counters.bytesIn)
    expect(counters.bytesOut).toBe(metrics.bytesArchived)

    await stop()
    expect(metrics.sampleLoads()).toEqual([])
  })

  it('reports the upload time of the files stored in a status interval', async () => {
    const topic = uniqueName('latency')
    await createTopic(topic, 1)
    await produce(topic, records(30))
    const dir = mkdtempSync(join(tmpdir(), 'kdp-load-'))
    const { metrics } = runArchiver(
      topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 10 } }),
      `file://${dir}`,
    )
    const uploads: number[] = []
    metrics.onUpload((seconds) => uploads.push(seconds))
    const seen: PartitionLoad[] = []
    await eventually('30 archived and sampled', () => {
      seen.push(...metrics.sampleLoads())
      return metrics.recordsArchived === 30 && seen.some((l) => l.uploadLatencyMs !== null) ? true : undefined
    })
    expect(seen.filter((l) => l.uploadLatencyMs !== null).every((l) => l.uploadLatencyMs! >= 0)).toBe(true)
    expect(metrics.filesWritten).toBe(3)
  })

  it('drops the partitions a rebalance gives to another member, and each is owned once', async () => {
    const topic = uniqueName('moves')
    await createTopic(topic, 4)
    await produce(
      topic,
      [0, 1, 2, 3].flatMap((p) => records(5, p)),
    )
    const cluster = uniqueName('arch')
    const dir = mkdtempSync(join(tmpdir(), 'kdp-load-'))
    const config = topicConfig(topic, { pathTemplate: 'all' })
    const first = runArchiver(config, `file://${dir}`, { cluster })
    const owned = (m: ArchiveMetrics) => m.owned().map((o) => o.counters.partition)
    await eventually('the first member owns all 4', () =>
      owned(first.metrics).length === 4 ? true : undefined,
    )
    const second = runArchiver(config, `file://${dir}`, { cluster })
    await eventually(
      'the partitions split between the two members',
      () => {
        const a = owned(first.metrics)
        const b = owned(second.metrics)
        return a.length > 0 && b.length > 0 && a.length + b.length === 4 ? true : undefined
      },
      90_000,
    )
    expect([...owned(first.metrics), ...owned(second.metrics)].sort()).toEqual([0, 1, 2, 3])
    // Everything the second member re-read is buffered there, from the group's committed offset 0.
    await eventually('the second member read its partitions', () => {
      const loads = second.metrics.sampleLoads()
      return loads.length > 0 && loads.every((l) => l.bufferedRecords === 5) ? loads : undefined
    })
    for (const load of second.metrics.sampleLoads())
      expect(load).toMatchObject({ committedLag: 5, unreadLag: 0 })
    await second.stop()
    expect(owned(second.metrics)).toEqual([])
  })
})
