// GET /stream over HTTP with fake stores: the snapshot, then only changes, in order; the bound on
// streams; CORS for reads from the cluster's own nodes only; streams end when the node stops.
import { describe, expect, it } from 'vitest'
import type { StreamSnapshot } from '../../src/http/live/shapes.js'
import type { ReportedNode } from '../../src/processes/state/stores.js'
import {
  defaultFields,
  FakeEventView,
  FakeStatusView,
  json,
  MemoryConfigStore,
  node,
  startTestApi,
} from './fakes.js'

/** A status view that tells its listeners, like the status store does. */
class NotifyingStatusView extends FakeStatusView {
  readonly #listeners = new Set<(nodeId: string) => void>()
  subscribe(listener: (nodeId: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
  set(nodes: ReportedNode[], changed: string): void {
    this.reported = nodes
    for (const listener of this.#listeners) listener(changed)
  }
}

interface StreamEvent {
  readonly event: string
  readonly data: unknown
}

/** Reads a stream's events as they come. */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers })
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  const events: StreamEvent[] = []
  let ended = false
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true })
      let end = buffer.indexOf('\n\n')
      while (end >= 0) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const name = /^event: (.*)$/m.exec(frame)?.[1]
        const data = /^data: (.*)$/m.exec(frame)?.[1]
        if (name !== undefined && data !== undefined) events.push({ event: name, data: JSON.parse(data) })
        end = buffer.indexOf('\n\n')
      }
    }
    ended = true
  })().catch(() => {
    ended = true
  })
  /** Waits until `count` events of the given names arrived; returns them. */
  const next = async (names: string[], count = 1): Promise<StreamEvent[]> => {
    for (let i = 0; i < 500; i++) {
      const found = events.filter((e) => names.includes(e.event))
      if (found.length >= count) return found
      await new Promise((r) => setTimeout(r, 20))
    }
    throw new Error(`no ${count} × ${names.join('/')} in ${JSON.stringify(events.map((e) => e.event))}`)
  }
  return {
    response,
    events,
    next,
    ended: () => ended,
    pump,
    close: () => reader.cancel(),
  }
}

describe('GET /stream', () => {
  it('sends the snapshot first, then each change once, in the order they happened', async () => {
    const configs = new MemoryConfigStore()
    configs.seed('tweets')
    const status = new NotifyingStatusView([node('a', { httpAddress: 'http://127.0.0.1:1' })])
    const events = new FakeEventView()
    events.push({
      type: 'master-started',
      nodeId: 'a',
      at: '2025-01-01T00:00:00.000Z',
      details: { fencingToken: 4 },
    })
    const api = await startTestApi({ configs, status, events, statusIntervalMs: 60_000, cluster: 'prod' })
    const stream = await openStream(api.url('/stream'))
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(stream.response.headers.get('cache-control')).toBe('no-store')
    const [first] = await stream.next(['snapshot'])
    expect(stream.events[0]?.event).toBe('snapshot')
    const snapshot = first!.data as StreamSnapshot
    expect(snapshot).toMatchObject({
      nodeId: 'node-a',
      cluster: 'prod',
      statusIntervalMs: 60_000,
      writable: true,
    })
    expect(snapshot.nodes.map((n) => n.nodeId)).toEqual(['a'])
    expect(snapshot.configs.map((c) => c.topic)).toEqual(['tweets'])
    expect(snapshot.events.map((e) => e.type)).toEqual(['master-started'])
    expect(snapshot.history).toHaveLength(1)

    status.set([node('a', { updatedAt: '2025-01-01T00:00:10.000Z' }), node('b')], 'a')
    status.set(status.reported, 'b')
    // The same record again is no news.
    status.set(status.reported, 'b')
    await configs.put('clicks', defaultFields)
    events.push({
      type: 'heavy-use',
      nodeId: 'cluster',
      at: '2025-01-01T00:00:11.000Z',
      details: { reasons: ['a: CPU'] },
    })
    status.set([node('b')], 'a')
    await configs.delete('tweets')
    const changes = await stream.next(['node', 'node-removed', 'config', 'event'], 6)
    expect(changes.map((e) => e.event)).toEqual(['node', 'node', 'config', 'event', 'node-removed', 'config'])
    expect(
      changes.map(
        (e) => (e.data as { nodeId?: string; topic?: string }).nodeId ?? (e.data as { topic: string }).topic,
      ),
    ).toEqual(['a', 'b', 'clicks', 'cluster', 'a', 'tweets'])
    expect((changes[5]!.data as { config: unknown }).config).toBeNull()
    await stream.close()
  })

  it('ticks every status interval and tells when a node goes lost (no notification needed)', async () => {
    const status = new FakeStatusView([node('a')])
    const api = await startTestApi({ status, statusIntervalMs: 100 })
    const stream = await openStream(api.url('/stream'))
    await stream.next(['snapshot'])
    const ticks = await stream.next(['tick'], 2)
    expect(ticks[0]!.data).toMatchObject({ topics: {} })
    status.reported = [node('a', { lost: true })]
    const [lost] = await stream.next(['node'])
    expect(lost!.data).toMatchObject({ nodeId: 'a', lost: true })
    status.reported = []
    const [gone] = await stream.next(['node-removed'])
    expect(gone!.data).toEqual({ nodeId: 'a' })
    await stream.close()
  })

  it('keeps a few minutes of ticker for the pages that open later', async () => {
    const load = {
      topic: 't',
      sink: 's',
      partition: 0,
      unreadLag: 7,
      bufferedRecords: 1,
      bufferedBytes: 10,
      committedLag: 8,
      recordsInPerSec: 2,
      bytesInPerSec: 20,
      recordsOutPerSec: 1,
      bytesOutPerSec: 5,
      uploadLatencyMs: null,
    }
    const status = new FakeStatusView([node('a', { partitions: [load] })])
    const api = await startTestApi({ status, statusIntervalMs: 50, historyMs: 200 })
    const early = await openStream(api.url('/stream'))
    await early.next(['tick'], 6)
    await early.close()
    const late = await openStream(api.url('/stream'))
    const [snapshot] = await late.next(['snapshot'])
    const history = (snapshot!.data as StreamSnapshot).history
    // 200 ms at 50 ms: the last 4 points, each with the topic's sums.
    expect(history).toHaveLength(4)
    expect(history.at(-1)?.topics.t).toMatchObject({ unreadLag: 7, committedLag: 8, recordsInPerSec: 2 })
    await late.close()
  })

  it('allows cross-origin reads from the cluster’s nodes only, and never cross-origin writes', async () => {
    const status = new FakeStatusView([
      node('a', { httpAddress: 'http://127.0.0.1:7001' }),
      node('b', { httpAddress: 'http://0.0.0.0:7002', host: 'box-b' }),
    ])
    const api = await startTestApi({ status, corsOrigins: ['https://lb.example.com'] })
    const origin = async (path: string, from: string, method = 'GET') =>
      (await fetch(api.url(path), { method, headers: { origin: from } })).headers.get(
        'access-control-allow-origin',
      )
    expect(await origin('/nodes', 'http://127.0.0.1:7001')).toBe('http://127.0.0.1:7001')
    // A node bound to every interface is reached by its host name.
    expect(await origin('/nodes', 'http://box-b:7002')).toBe('http://box-b:7002')
    expect(await origin('/nodes', 'https://lb.example.com')).toBe('https://lb.example.com')
    expect(await origin('/nodes', 'https://evil.example.com')).toBeNull()
    expect(await origin('/topics/x/pause', 'http://127.0.0.1:7001', 'POST')).toBeNull()
    const preflight = await fetch(api.url('/topics/x/config'), {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:7001', 'access-control-request-method': 'PUT' },
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    const stream = await openStream(api.url('/stream'), { origin: 'http://127.0.0.1:7001' })
    expect(stream.response.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:7001')
    await stream.close()
  })

  it('refuses streams past its bound, and ends every stream when the node stops', async () => {
    const api = await startTestApi({ maxStreams: 2 })
    const a = await openStream(api.url('/stream'))
    const b = await openStream(api.url('/stream'))
    await a.next(['snapshot'])
    await b.next(['snapshot'])
    const third = await fetch(api.url('/stream'))
    expect(third.status).toBe(503)
    expect(await json(third)).toMatchObject({ error: 'unavailable' })
    await api.api.stop()
    await Promise.all([a.pump, b.pump])
    expect([a.ended(), b.ended()]).toEqual([true, true])
  })

  it('opens with no events when the events topic cannot be read, and says so in GET /events', async () => {
    const events = new FakeEventView()
    events.failing = new Error('broker down')
    const api = await startTestApi({ events })
    const stream = await openStream(api.url('/stream'))
    const [snapshot] = await stream.next(['snapshot'])
    expect((snapshot!.data as StreamSnapshot).events).toEqual([])
    await stream.close()
    const response = await fetch(api.url('/events'))
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('5')
  })
})
