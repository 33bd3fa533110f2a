import { afterEach, describe, expect, inject, it } from 'vitest'
import { connectKafka } from '../../../src/kafka/index.js'
import { EventFeed, type FeedEvent, feedEvent } from '../../../src/processes/state/eventFeed.js'
import { EventLog } from '../../../src/processes/state/eventLog.js'
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

describe('EventFeed on the events topic', () => {
  it('reads what was written before it was asked, then follows; kinds it does not know too', async () => {
    const topic = uniqueName('events')
    const kafka = client()
    const log = new EventLog(kafka, topic, 'node-1', silentLogger)
    await log.start()
    await log.emit({ type: 'config-changed', topic: 'tweets', revision: 2 })
    await log.emit({ type: 'heavy-use', nodeId: 'cluster', reasons: ['n1: CPU 90% > 85%'] })
    // A newer writer's kind, and two records nobody can show.
    await kafka.produce(topic, {
      key: 'scaling-decision',
      value: JSON.stringify({
        type: 'scaling-decision',
        nodeId: 'n2',
        at: '2025-01-01T00:00:00.000Z',
        desired: 4,
      }),
    })
    await kafka.produce(topic, { key: 'x', value: '{"no envelope":1}' })
    await kafka.produce(topic, { key: 'x', value: 'not json' })
    const logger = capturingLogger()
    const feed = new EventFeed(client(), topic, logger, 3)
    cleanups.push(() => feed.stop())
    const first = await feed.recent()
    expect(first.map((e) => e.type)).toEqual(['config-changed', 'heavy-use', 'scaling-decision'])
    expect(first[0]).toMatchObject({ nodeId: 'node-1', details: { topic: 'tweets', revision: 2 } })
    // EventLog writes the writer's node id over an event's own `nodeId` field.
    expect(first[1]).toMatchObject({ nodeId: 'node-1', details: { reasons: ['n1: CPU 90% > 85%'] } })
    expect(first[2]).toMatchObject({ details: { desired: 4 } })
    expect(first.map((e) => e.offset)).toEqual([0, 1, 2])
    expect(logger.lines.filter((e) => e.message === 'event record skipped')).toHaveLength(2)

    const seen: FeedEvent[] = []
    feed.subscribe((event) => seen.push(event))
    await log.emit({ type: 'process-failed', group: 'kdp-archivers', key: 't|s|0', error: 'boom' })
    await eventually('the new event', () => (seen.length === 1 ? true : undefined))
    expect(seen[0]).toMatchObject({ type: 'process-failed', details: { key: 't|s|0', error: 'boom' } })
    // It keeps the latest 3.
    expect((await feed.recent()).map((e) => e.type)).toEqual([
      'heavy-use',
      'scaling-decision',
      'process-failed',
    ])
  })

  it('answers at once for an empty topic, and a stop ends a read under way', async () => {
    const topic = uniqueName('events')
    await new EventLog(client(), topic, 'n', silentLogger).start()
    const feed = new EventFeed(client(), topic, silentLogger)
    expect(await feed.recent()).toEqual([])
    await feed.stop()
    expect(await feed.recent()).toEqual([])
  })

  it('tells a record it cannot show by the reason', () => {
    const record = (value: string | null) => ({
      partition: 0,
      offset: 5,
      key: 'k',
      value: value === null ? null : Buffer.from(value),
      timestamp: 0,
    })
    expect(feedEvent(record(null))).toEqual({ invalid: 'no value' })
    expect(feedEvent(record('{"type":1,"nodeId":"n","at":"t"}'))).toMatchObject({ invalid: /type/ })
    expect(feedEvent(record('{"type":"a","nodeId":"n","at":"t","x":[1]}'))).toEqual({
      offset: 5,
      type: 'a',
      nodeId: 'n',
      at: 't',
      details: { x: [1] },
    })
  })
})
