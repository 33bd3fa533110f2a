// Reads a topic from the beginning with read_committed, as a downstream consumer would, and keeps
// every record in the order of its partition.
import { randomBytes } from 'node:crypto'
import { type Consumer, Kafka, logLevel } from 'kafkajs'

export interface ReadRecord {
  readonly partition: number
  readonly offset: number
  readonly key: string | null
  readonly value: Buffer | null
  readonly headers: Readonly<Record<string, string>>
}

export interface TopicReader {
  /** Every committed record read so far, in arrival order (offset order within a partition). */
  readonly records: ReadRecord[]
  stop(): Promise<void>
}

/** Starts reading `topic`; resolves once the reader's group has its partitions. */
export async function readTopic(brokers: readonly string[], topic: string): Promise<TopicReader> {
  const kafka = new Kafka({ brokers: [...brokers], clientId: 'chat-test-reader', logLevel: logLevel.NOTHING })
  const consumer: Consumer = kafka.consumer({
    groupId: `chat-test-reader-${randomBytes(4).toString('hex')}`,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
  })
  const records: ReadRecord[] = []
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()))
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v)
      records.push({
        partition,
        offset: Number(message.offset),
        key: message.key?.toString('utf8') ?? null,
        value: message.value,
        headers,
      })
    },
  })
  await joined
  return { records, stop: () => consumer.disconnect() }
}
