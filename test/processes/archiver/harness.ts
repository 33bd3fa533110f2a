// Helpers of the archiver's integration tests: one archiver run the way a node runs it, against the
// suite's real broker and S3 on moto.
import { gunzipSync } from 'node:zlib'
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, inject } from 'vitest'
import { ArchiveMetrics, createArchiverFactory } from '../../../src/processes/archiver/index.js'
import type { TopicConfig } from '../../../src/processes/state/topicConfig.js'
import { openSink } from '../../../src/sinks/openSink.js'
import type { Sink } from '../../../src/sinks/sink.js'
import { createTestContext } from '../../../src/testing.js'
import type { Logger } from '../../../src/util/logging.js'
import { silentLogger } from '../../../src/util/logging.js'
import { eventually, uniqueName } from '../../helpers/names.js'

export const brokers = inject('kafkaBrokers').split(',')
export const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING })
/** Undone after each test, last first. */
export const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

export { topicConfig } from './configs.js'

export const s3Options = (endpoint: string) => ({
  s3: {
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 3000,
    maxAttempts: 1,
  },
})

/** Runs one archiver instance the way a node does; stop() aborts it like a revoked slice. */
export function runArchiver(
  config: TopicConfig,
  sinkUrl: string,
  options: {
    cluster?: string
    sinkId?: string
    maxMessages?: number
    maxBytes?: number
    open?: (url: string) => Sink
    logger?: Logger
  } = {},
) {
  const metrics = new ArchiveMetrics()
  const factory = createArchiverFactory({
    brokers,
    cluster: options.cluster ?? uniqueName('arch'),
    openSink: options.open ?? ((url) => openSink(url)),
    maxMessagesInFlight: options.maxMessages ?? 100_000,
    maxBytesInFlight: options.maxBytes ?? 64 * 2 ** 20,
    metrics,
    logger: options.logger ?? silentLogger,
  })
  cleanups.push(() => factory.close())
  const { ctx, abort } = createTestContext({ key: 'k', logger: options.logger ?? silentLogger })
  const done = factory(config, { id: options.sinkId ?? 'main', url: sinkUrl }, 0)(ctx)
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    abort()
    await done
  }
  cleanups.push(stop)
  return { metrics, stop, done }
}

export async function createTopic(topic: string, partitions: number) {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  await admin.disconnect()
}

export async function produce(
  topic: string,
  messages: Array<{ partition?: number; key?: string; value: string; headers?: Record<string, string> }>,
) {
  const producer = kafka.producer()
  await producer.connect()
  for (let i = 0; i < messages.length; i += 500)
    await producer.send({ topic, messages: messages.slice(i, i + 500) })
  await producer.disconnect()
}

/** The first `count` records of the topic's dead-letter topic (`<topic>.dlq`), headers as strings. */
export async function readDeadLetters(
  topic: string,
  count: number,
): Promise<Array<{ key: string | undefined; value: string; headers: Record<string, string> }>> {
  const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader') })
  const dead: Array<{ key: string | undefined; value: string; headers: Record<string, string> }> = []
  await consumer.connect()
  await consumer.subscribe({ topic: `${topic}.dlq`, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) =>
      void dead.push({
        key: message.key?.toString(),
        value: message.value?.toString() ?? '',
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      }),
  })
  await eventually(`${count} dead letters`, () => (dead.length >= count ? true : undefined))
  await consumer.disconnect()
  return dead
}

/** Every line of every object in the sink, with the object it came from. */
export async function readArchive(sink: Sink): Promise<Array<{ key: string; line: string }>> {
  const lines: Array<{ key: string; line: string }> = []
  for (const key of await sink.list()) {
    const body = await sink.get(key)
    const text = (key.endsWith('.gz') ? gunzipSync(body) : body).toString('utf8')
    for (const line of text.split('\n')) if (line) lines.push({ key, line })
  }
  return lines
}
