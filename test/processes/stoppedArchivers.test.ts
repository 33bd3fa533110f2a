// An archiver that stops by itself (here: the bucket does not exist, a real NoSuchBucket from S3 on
// moto) is visible on every node: in `GET /topics` and as an `archiver-stopped` event.
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { ArchiveMetrics, createArchiverFactory } from '../../src/processes/archiver/index.js'
import { type ArchiverNode, startArchiverNode } from '../../src/processes/archiverNode.js'
import { clusterNames } from '../../src/processes/clusterNames.js'
import { openSink } from '../../src/sinks/openSink.js'
import { silentLogger } from '../../src/util/logging.js'
import { eventually, uniqueName } from '../helpers/names.js'

const brokers = inject('kafkaBrokers').split(',')
const token = 'test-token-not-a-secret'
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function node(cluster: string, nodeId: string): Promise<ArchiverNode> {
  const metrics = new ArchiveMetrics()
  const archiver = createArchiverFactory({
    brokers,
    cluster,
    openSink: (url) =>
      openSink(url, {
        s3: {
          endpoint: inject('motoEndpoint'),
          forcePathStyle: true,
          region: 'us-east-1',
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
          maxAttempts: 1,
        },
      }),
    maxMessagesInFlight: 10_000,
    maxBytesInFlight: 16 * 2 ** 20,
    metrics,
    logger: silentLogger,
  })
  const started = await startArchiverNode({
    brokers,
    cluster,
    nodeId,
    include: ['none-such'],
    defaultSinks: [],
    http: { token },
    archiver,
    metrics,
    statusIntervalMs: 500,
    partitions: 4,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxStopMs: 1000,
    leaseMarginMs: 500,
    logger: silentLogger,
  })
  cleanups.push(async () => {
    await started.stop()
    await archiver.close()
  })
  return started
}

describe('an archiver that stops by itself', () => {
  it('shows in GET /topics of every node and as an archiver-stopped event', async () => {
    const cluster = uniqueName('stop')
    const topic = uniqueName('nobucket')
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
    await admin.disconnect()
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({
      topic,
      messages: Array.from({ length: 5 }, (_, i) => ({ value: JSON.stringify({ i }) })),
    })
    await producer.disconnect()
    const a = await node(cluster, 'a')
    const b = await node(cluster, 'b')
    const bucket = uniqueName('missing')
    const put = await fetch(`${a.httpAddress}/topics/${topic}/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        sinks: [{ id: 's3', url: `s3://${bucket}/x` }],
        pathTemplate: 'all',
        rotation: { maxRecords: 5 },
      }),
    })
    expect(put.status).toBe(200)
    for (const answering of [a, b]) {
      const entry = await eventually(`GET /topics on ${answering.nodeId} shows the stop`, async () => {
        const topics = (await (await fetch(`${answering.httpAddress}/topics`)).json()) as Array<{
          topic: string
          stopped: Array<Record<string, string>>
        }>
        const found = topics.find((t) => t.topic === topic)
        return found && found.stopped.length > 0 ? found : undefined
      })
      expect(entry.stopped).toEqual([
        expect.objectContaining({ topic, sink: 's3', reason: 'sink-error', nodeId: expect.any(String) }),
      ])
      expect(entry.stopped[0]?.error).toContain('NoSuchBucket')
    }
    const events: Array<Record<string, string>> = []
    const consumer = kafka.consumer({ groupId: uniqueName('events-reader') })
    await consumer.connect()
    await consumer.subscribe({ topic: clusterNames(cluster).events, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => void events.push(JSON.parse(message.value?.toString() ?? '{}')),
    })
    const event = await eventually('the archiver-stopped event', () =>
      events.find((e) => e.type === 'archiver-stopped'),
    )
    await consumer.disconnect()
    expect(event).toMatchObject({ topic, sink: 's3', reason: 'sink-error' })
  })
})
