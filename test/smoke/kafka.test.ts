import { Kafka, logLevel } from 'kafkajs'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { eventually, uniqueName } from '../helpers/names.js'

const kafka = new Kafka({
  brokers: inject('kafkaBrokers').split(','),
  clientId: 'smoke',
  logLevel: logLevel.NOTHING,
})
const admin = kafka.admin()
const producer = kafka.producer()
await admin.connect()
await producer.connect()

afterAll(async () => {
  await producer.disconnect()
  await admin.disconnect()
})

describe('the real Kafka broker', () => {
  it('round-trips produced records through a consumer', async () => {
    const topic = uniqueName('smoke-roundtrip')
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
    const values = Array.from({ length: 50 }, (_, i) => `record-${i}`)
    await producer.send({ topic, messages: values.map((value) => ({ value })) })

    const consumer = kafka.consumer({ groupId: uniqueName('smoke-rt') })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const seen: string[] = []
    await consumer.run({
      eachMessage: async ({ message }) => void seen.push(message.value?.toString() ?? ''),
    })
    await eventually('all 50 records consumed', () => (seen.length >= values.length ? true : undefined))
    await consumer.disconnect()
    expect(seen).toEqual(values)
  })

  it('compacts a topic down to the last value per key once the cleaner has run', async () => {
    const topic = uniqueName('smoke-compact')
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.ms', value: '100' },
            { name: 'min.cleanable.dirty.ratio', value: '0.001' },
            { name: 'min.compaction.lag.ms', value: '0' },
            { name: 'delete.retention.ms', value: '100' },
          ],
        },
      ],
      waitForLeaders: true,
    })
    for (let round = 0; round < 5; round++) {
      await producer.send({
        topic,
        messages: ['a', 'b', 'c'].map((key) => ({ key, value: `${key}-${round}` })),
      })
    }
    // The cleaner never touches the active segment: keep rolling it with a throwaway key until the
    // partition's records read back from the start are exactly one per key.
    const readAll = async (): Promise<Map<string, string[]>> => {
      const consumer = kafka.consumer({ groupId: uniqueName('smoke-compact') })
      const byKey = new Map<string, string[]>()
      const end = Number((await admin.fetchTopicOffsets(topic))[0]?.high ?? 0)
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      let last = -1
      await consumer.run({
        eachMessage: async ({ message }) => {
          const key = message.key?.toString() ?? ''
          byKey.set(key, [...(byKey.get(key) ?? []), message.value?.toString() ?? ''])
          last = Number(message.offset)
        },
      })
      await eventually(
        'the compacted topic read to its end',
        () => (last >= end - 1 ? true : undefined),
        30_000,
        50,
      )
      await consumer.disconnect()
      return byKey
    }
    const compacted = await eventually(
      'the log cleaner to compact the topic',
      async () => {
        await new Promise((r) => setTimeout(r, 300))
        await producer.send({ topic, messages: [{ key: 'roll', value: String(Date.now()) }] })
        const byKey = await readAll()
        return ['a', 'b', 'c'].every((k) => byKey.get(k)?.length === 1) ? byKey : undefined
      },
      90_000,
      500,
    )
    expect(compacted.get('a')).toEqual(['a-4'])
    expect(compacted.get('b')).toEqual(['b-4'])
    expect(compacted.get('c')).toEqual(['c-4'])
  })

  it('splits the partitions of a topic between the two members of a consumer group', async () => {
    const topic = uniqueName('smoke-group')
    const groupId = uniqueName('smoke-group')
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true })
    const assigned = new Map<string, number[]>()
    const members = ['m1', 'm2'].map((name) => {
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: 6000,
        heartbeatInterval: 300,
        maxWaitTimeInMs: 300,
      })
      consumer.on(consumer.events.GROUP_JOIN, (e) =>
        assigned.set(name, e.payload.memberAssignment[topic] ?? []),
      )
      return consumer
    })
    for (const consumer of members) {
      await consumer.connect()
      await consumer.subscribe({ topic })
      await consumer.run({ eachMessage: async () => {} })
    }
    const split = await eventually('both members to hold two partitions', () => {
      const a = assigned.get('m1') ?? []
      const b = assigned.get('m2') ?? []
      return a.length === 2 && b.length === 2 ? [...a, ...b] : undefined
    })
    await Promise.all(members.map((c) => c.disconnect()))
    expect(split.sort()).toEqual([0, 1, 2, 3])
  })
})
