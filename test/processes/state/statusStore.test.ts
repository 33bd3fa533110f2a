import { afterEach, describe, expect, inject, it } from 'vitest'
import { connectKafka } from '../../../src/kafka/index.js'
import { StatusStore } from '../../../src/processes/state/statusStore.js'
import { silentLogger } from '../../../src/util/logging.js'
import { capturingLogger } from '../../helpers/logs.js'
import { eventually, uniqueName } from '../../helpers/names.js'

const brokers = inject('kafkaBrokers').split(',')
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function client() {
  const c = connectKafka({ brokers, clientId: 'test', logger: silentLogger })
  cleanups.push(() => c.disconnect())
  return c
}

const noSources = { processes: () => [], lag: () => 0, warnings: () => [] }

async function node(topic: string, nodeId: string, intervalMs = 300, logger = silentLogger) {
  const s = new StatusStore(
    client(),
    topic,
    { nodeId, httpAddress: () => `http://127.0.0.1:1/${nodeId}`, intervalMs, sources: noSources },
    logger,
  )
  await s.start()
  return s
}

describe('StatusStore on a compacted topic', () => {
  it('publishes every node’s status to every node, and a graceful stop removes it', async () => {
    const topic = uniqueName('status')
    const a = await node(topic, 'a')
    const b = await node(topic, 'b')
    cleanups.push(() => b.stop())
    await eventually('a sees both', () => (a.nodes().length === 2 ? true : undefined))
    const seenByA = a.nodes().find((n) => n.nodeId === 'b')!
    expect(seenByA).toMatchObject({
      nodeId: 'b',
      pid: process.pid,
      httpAddress: 'http://127.0.0.1:1/b',
      lost: false,
    })
    expect(seenByA.rssBytes).toBeGreaterThan(0)
    await a.stop()
    await eventually('b no longer lists a', () =>
      b
        .nodes()
        .map((n) => n.nodeId)
        .join() === 'b'
        ? true
        : undefined,
    )
  })

  it('shows a node that went silent for more than three intervals as lost', async () => {
    const topic = uniqueName('status')
    const watcher = await node(topic, 'watcher', 300)
    cleanups.push(() => watcher.stop())
    // A status record that is never refreshed: like a node killed with -9.
    const record = {
      nodeId: 'ghost',
      host: 'h',
      pid: 1,
      httpAddress: null,
      startedAt: '',
      updatedAt: '',
      cpuPercent: 0,
      rssBytes: 0,
      heapUsedBytes: 0,
      networkBytesPerSec: { received: 0, sent: 0 },
      processes: [],
      lag: 0,
      warnings: [],
    }
    await client().produce(topic, { key: 'ghost', value: JSON.stringify(record) })
    await eventually('ghost listed', () => watcher.nodes().find((n) => n.nodeId === 'ghost'))
    await eventually('ghost lost', () =>
      watcher.nodes().find((n) => n.nodeId === 'ghost')?.lost ? true : undefined,
    )
    expect(watcher.nodes().find((n) => n.nodeId === 'watcher')?.lost).toBe(false)
  })

  it('skips a status record that does not decode, with its offset in the log', async () => {
    const topic = uniqueName('status')
    const bad = await client().produce(
      topic === ''
        ? 'x'
        : await (async () => {
            await client().ensureTopic({ topic, partitions: 1 })
            return topic
          })(),
      { key: 'weird', value: JSON.stringify({ nodeId: 'weird', cpuPercent: 'high' }) },
    )
    const logger = capturingLogger()
    const s = await node(topic, 'a', 300, logger)
    cleanups.push(() => s.stop())
    expect(s.nodes().map((n) => n.nodeId)).toEqual(['a'])
    expect(
      logger.lines.some(
        (l) => l.message === 'record does not decode; skipped' && l.fields.offset === bad.offset,
      ),
    ).toBe(true)
  })
})
