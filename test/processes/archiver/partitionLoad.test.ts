import { describe, expect, it } from 'vitest'
import { ArchiveMetrics } from '../../../src/processes/archiver/metrics.js'
import { PartitionCounters } from '../../../src/processes/archiver/partitionLoad.js'

describe('PartitionCounters', () => {
  it('knows nothing before the first batch: no lag is invented', () => {
    const counters = new PartitionCounters(3, 0)
    expect(counters.unreadLag).toBe(0)
    expect(counters.committedLag).toBe(0)
  })

  it('takes the read start from the first batch, the log end from its high watermark', () => {
    const counters = new PartitionCounters(0, 0)
    counters.fetched(1000, 400)
    expect(counters.committed).toBe(400)
    expect(counters.position).toBe(400)
    counters.position = 450
    expect(counters.unreadLag).toBe(550)
    expect(counters.committedLag).toBe(600)
    // A later batch never moves the start, and an older watermark never lowers the end.
    counters.fetched(900, 450)
    expect(counters.committed).toBe(400)
    expect(counters.highWatermark).toBe(1000)
  })

  it('rates over the span since the previous sample, and the median upload time of that span', () => {
    const counters = new PartitionCounters(1, 0)
    counters.recordsIn = 100
    counters.bytesIn = 10_000
    counters.recordsOut = 50
    counters.bytesOut = 2000
    for (const ms of [30, 10, 20, 1000]) counters.uploaded(ms)
    expect(counters.sample('t', 's', 2000)).toEqual({
      topic: 't',
      sink: 's',
      partition: 1,
      unreadLag: 0,
      bufferedRecords: 0,
      bufferedBytes: 0,
      committedLag: 0,
      recordsInPerSec: 50,
      bytesInPerSec: 5000,
      recordsOutPerSec: 25,
      bytesOutPerSec: 1000,
      uploadLatencyMs: 25,
    })
    counters.recordsIn = 400
    const next = counters.sample('t', 's', 5000)
    expect(next.recordsInPerSec).toBe(100)
    expect(next.recordsOutPerSec).toBe(0)
    expect(next.uploadLatencyMs).toBeNull()
  })

  it('rewinds to the committed offset and forgets its buffers after a rebalance', () => {
    const counters = new PartitionCounters(0, 0)
    counters.fetched(100, 10)
    counters.position = 60
    counters.bufferedRecords = 50
    counters.bufferedBytes = 5000
    counters.rewind()
    expect(counters.position).toBe(10)
    expect(counters.bufferedRecords).toBe(0)
    expect(counters.unreadLag).toBe(90)
  })
})

describe('ArchiveMetrics: the owned partitions of a node', () => {
  it('follows each archiver’s assignment and forgets an archiver that stopped', () => {
    const metrics = new ArchiveMetrics()
    const a = metrics.openLoad('orders', 's3')
    a.assigned([0, 1, 2])
    const b = metrics.openLoad('clicks', 'local')
    b.assigned([0])
    const owned = () => metrics.owned().map((o) => `${o.topic}/${o.sink}/${o.counters.partition}`)
    expect(owned()).toEqual(['orders/s3/0', 'orders/s3/1', 'orders/s3/2', 'clicks/local/0'])
    a.assigned([2, 3])
    expect(owned()).toEqual(['orders/s3/2', 'orders/s3/3', 'clicks/local/0'])
    a.close()
    expect(owned()).toEqual(['clicks/local/0'])
    // A batch that was under way when it stopped brings nothing back.
    a.partition(2).recordsIn++
    expect(owned()).toEqual(['clicks/local/0'])
  })

  it('samples sorted by topic, sink and partition, a partition held by two members once', () => {
    const metrics = new ArchiveMetrics()
    const first = metrics.openLoad('t', 'x')
    first.assigned([1, 0])
    const second = metrics.openLoad('t', 'x')
    second.assigned([1])
    first.partition(1).fetched(100, 0)
    first.partition(1).position = 20
    second.partition(1).fetched(100, 0)
    second.partition(1).position = 70
    const loads = metrics.sampleLoads()
    expect(loads.map((l) => [l.partition, l.unreadLag])).toEqual([
      [0, 0],
      [1, 30],
    ])
  })

  it('passes upload times on to its listeners', () => {
    const metrics = new ArchiveMetrics()
    const seen: number[] = []
    const unsubscribe = metrics.onUpload((s) => seen.push(s))
    metrics.uploadTook(0.25)
    unsubscribe()
    metrics.uploadTook(1)
    expect(seen).toEqual([0.25])
  })
})
