import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { eventually, uniqueName } from '../helpers/names.js'

describe('a 3-broker KRaft cluster', () => {
  let cluster: KafkaCluster
  beforeAll(async () => {
    cluster = await startKafka({ brokers: 3, heap: '384m' })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it('keeps a replication-3 topic writable and complete after one broker is killed', async () => {
    const kafka = new Kafka({
      brokers: [...cluster.brokers],
      clientId: 'smoke-cluster',
      logLevel: logLevel.NOTHING,
    })
    const admin = kafka.admin()
    await admin.connect()
    const topic = uniqueName('smoke-replicated')
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 3 }],
      waitForLeaders: true,
    })
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(metadata.topics[0]?.partitions.every((p) => p.replicas.length === 3)).toBe(true)

    const producer = kafka.producer({ retry: { retries: 10 } })
    await producer.connect()
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'before' }] })

    await cluster.kill(0)
    // The controller moves leadership once broker 1's session expires (3 s in test clusters).
    await eventually('leadership to leave the killed broker', async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
      return topics[0]?.partitions.every((p) => p.leader !== 1 && p.isr.length === 2) ? true : undefined
    })
    // acks=-1 with min.insync.replicas=2: this only succeeds if the two survivors replicate it.
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `after-${i}` })),
    })

    const offsets = await admin.fetchTopicOffsets(topic)
    const total = offsets.reduce((sum, p) => sum + Number(p.high), 0)
    expect(total).toBe(21)
    await producer.disconnect()
    await admin.disconnect()
  })
})
