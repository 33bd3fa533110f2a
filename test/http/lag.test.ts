import { describe, expect, it } from 'vitest'
import type { PartitionLoad } from '../../src/processes/state/status.js'
import { FakeStatusView, json, MemoryConfigStore, node, startTestApi } from './fakes.js'

function load(partition: number, fields: Partial<PartitionLoad> = {}): PartitionLoad {
  return {
    topic: 'orders',
    sink: 's3',
    partition,
    unreadLag: 100,
    bufferedRecords: 10,
    bufferedBytes: 1000,
    committedLag: 110,
    recordsInPerSec: 5,
    bytesInPerSec: 500,
    recordsOutPerSec: 4,
    bytesOutPerSec: 100,
    uploadLatencyMs: 20,
    ...fields,
  }
}

describe('GET /topics/:topic/lag', () => {
  it('gathers every node’s partitions of the topic, per sink and in total', async () => {
    const configs = new MemoryConfigStore()
    configs.seed('orders')
    const status = new FakeStatusView([
      node('a', { partitions: [load(0), load(1, { unreadLag: 5 }), load(0, { topic: 'other' })] }),
      node('b', { partitions: [load(2, { sink: 'local', committedLag: 1 })] }),
    ])
    const { url } = await startTestApi({ configs, status })
    const response = await fetch(url('/topics/orders/lag'))
    expect(response.status).toBe(200)
    const body = (await json(response)) as {
      total: Record<string, number>
      sinks: Array<Record<string, unknown>>
      partitions: Array<Record<string, unknown>>
    }
    expect(body.total).toEqual({
      unreadLag: 205,
      bufferedRecords: 30,
      bufferedBytes: 3000,
      committedLag: 221,
      recordsInPerSec: 15,
      bytesInPerSec: 1500,
      recordsOutPerSec: 12,
      bytesOutPerSec: 300,
    })
    expect(body.sinks.map((s) => [s.sink, s.unreadLag, s.committedLag])).toEqual([
      ['local', 100, 1],
      ['s3', 105, 220],
    ])
    expect(body.partitions.map((p) => [p.sink, p.partition, p.nodeId])).toEqual([
      ['local', 2, 'b'],
      ['s3', 0, 'a'],
      ['s3', 1, 'a'],
    ])
  })

  it('reports a partition two nodes claim once: from the node that answers, else the latest report', async () => {
    const configs = new MemoryConfigStore()
    configs.seed('orders')
    const status = new FakeStatusView([
      node('old', {
        lost: true,
        updatedAt: '2025-01-01T00:00:09.000Z',
        partitions: [load(0, { unreadLag: 1 })],
      }),
      node('new', { updatedAt: '2025-01-01T00:00:01.000Z', partitions: [load(0, { unreadLag: 2 })] }),
      node('x', { updatedAt: '2025-01-01T00:00:01.000Z', partitions: [load(1, { unreadLag: 3 })] }),
      node('y', { updatedAt: '2025-01-01T00:00:02.000Z', partitions: [load(1, { unreadLag: 4 })] }),
    ])
    const { url } = await startTestApi({ configs, status })
    const body = (await json(await fetch(url('/topics/orders/lag')))) as {
      partitions: Array<{ partition: number; nodeId: string; unreadLag: number; lost: boolean }>
    }
    expect(body.partitions.map((p) => [p.partition, p.nodeId, p.unreadLag, p.lost])).toEqual([
      [0, 'new', 2, false],
      [1, 'y', 4, false],
    ])
  })

  it('answers zeros for a configured topic nobody archives yet, 404 for an unknown one, 400 for a bad name', async () => {
    const configs = new MemoryConfigStore()
    configs.seed('quiet')
    const { url } = await startTestApi({ configs, status: new FakeStatusView([node('a')]) })
    const quiet = (await json(await fetch(url('/topics/quiet/lag')))) as Record<string, unknown>
    expect(quiet).toMatchObject({ topic: 'quiet', sinks: [], partitions: [], total: { unreadLag: 0 } })
    const unknown = await fetch(url('/topics/unknown/lag'))
    expect(unknown.status).toBe(404)
    expect(await json(unknown)).toMatchObject({ error: 'not_found' })
    const bad = await fetch(url('/topics/a%20b/lag'))
    expect(bad.status).toBe(400)
    expect(await json(bad)).toMatchObject({ error: 'invalid_topic', fields: [{ path: 'topic' }] })
  })
})
