import { afterEach, describe, expect, inject, it } from 'vitest'
import { connectKafka } from '../../../src/kafka/index.js'
import { KafkaConfigStore } from '../../../src/processes/state/configStore.js'
import { EventLog } from '../../../src/processes/state/eventLog.js'
import { decodeConfigFields } from '../../../src/processes/state/topicConfig.js'
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

async function store(topic: string, logger = silentLogger) {
  const c = client()
  const s = new KafkaConfigStore(c, topic, undefined, logger)
  await s.start()
  cleanups.push(() => s.stop())
  return s
}

const sink = { id: 'local', url: 'file:///tmp/archive' }

describe('ConfigStore on a compacted topic', () => {
  it('reads the topic to its end before it serves, and reads its own writes', async () => {
    const topic = uniqueName('configs')
    const writer = await store(topic)
    for (let i = 0; i < 20; i++)
      await writer.put(`orders-${i}`, decodeConfigFields({ sinks: [sink], parallelism: 1 + (i % 3) }))
    const updated = await writer.put('orders-7', decodeConfigFields({ sinks: [sink], paused: true }))
    expect(updated.revision).toBe(2)
    expect(writer.get('orders-7')?.paused).toBe(true)

    const reader = await store(topic)
    // No waiting: start() resolved only after the whole topic was applied.
    expect(reader.list().map((c) => c.topic)).toHaveLength(20)
    expect(reader.get('orders-7')).toMatchObject({ paused: true, revision: 2, version: 1 })
    expect(reader.get('orders-5')?.parallelism).toBe(3)
  })

  it('applies later writes and deletions live on other nodes', async () => {
    const topic = uniqueName('configs')
    const a = await store(topic)
    const b = await store(topic)
    const seen: string[] = []
    b.subscribe((t, c) => seen.push(`${t}:${c ? c.revision : 'deleted'}`))
    await a.put('clicks', decodeConfigFields({ sinks: [sink] }))
    await eventually('b sees the config', () => b.get('clicks'))
    expect(await a.delete('clicks')).toBe(true)
    expect(await a.delete('clicks')).toBe(false)
    await eventually('b sees the deletion', () => (b.get('clicks') ? undefined : true))
    expect(seen).toEqual(['clicks:1', 'clicks:deleted'])
  })

  it('logs and skips records that do not decode, and never stops applying the rest', async () => {
    const topic = uniqueName('configs')
    const a = await store(topic)
    await a.put('good-1', decodeConfigFields({ sinks: [sink] }))
    const raw = client()
    const notJson = await raw.produce(topic, { key: 'broken-json', value: '{not json' })
    const wrongShape = await raw.produce(topic, {
      key: 'wrong-shape',
      value: JSON.stringify({ version: 1, topic: 'wrong-shape', parallelism: 'two' }),
    })
    const futureVersion = await raw.produce(topic, {
      key: 'future',
      value: JSON.stringify({ version: 99, topic: 'future' }),
    })
    await a.put('good-2', decodeConfigFields({ sinks: [sink] }))

    const logger = capturingLogger()
    const b = await store(topic, logger)
    expect(b.list().map((c) => c.topic)).toEqual(['good-1', 'good-2'])
    const skipped = logger.lines.filter(
      (l) => l.level === 'error' && l.message === 'record does not decode; skipped',
    )
    expect(skipped.map((l) => l.fields.offset)).toEqual([
      notJson.offset,
      wrongShape.offset,
      futureVersion.offset,
    ])
    expect(String(skipped[1]?.fields.reason)).toContain('parallelism')
    await a.put('good-3', decodeConfigFields({ sinks: [sink] }))
    await eventually('b keeps applying', () => b.get('good-3'))
  })

  it('writes config changes to the events topic', async () => {
    const topic = uniqueName('configs')
    const eventsTopic = uniqueName('events')
    const c = client()
    const events = new EventLog(c, eventsTopic, 'node-1', silentLogger)
    await events.start()
    const s = new KafkaConfigStore(c, topic, events, silentLogger)
    await s.start()
    cleanups.push(() => s.stop())
    await s.put('payments', decodeConfigFields({ sinks: [sink] }))
    const ends = await c.endOffsets(eventsTopic)
    expect(ends.get(0)).toBe(1)
  })
})
