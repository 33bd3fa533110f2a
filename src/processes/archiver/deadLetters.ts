import type { IHeaders, Kafka, Producer } from 'kafkajs'
import type { ConsumedRecord } from '../../kafka/topicConsumer.js'

/** Where a bad record came from and why it is bad. */
export interface BadRecord {
  readonly record: ConsumedRecord
  readonly topic: string
  readonly partition: number
  readonly reason: string
}

/**
 * Writes bad records to a dead-letter topic: the original key, value and headers, plus
 * `kdp-error-reason`, `kdp-source-topic`, `kdp-source-partition`, `kdp-source-offset`. At least once:
 * a record re-read after a crash is written again.
 */
export class DeadLetters {
  #producer: Promise<Producer> | undefined
  readonly #ensured = new Set<string>()

  constructor(private readonly kafka: Kafka) {}

  async write(dlqTopic: string, bad: BadRecord): Promise<void> {
    await this.#ensureTopic(dlqTopic)
    this.#producer ??= (async () => {
      const producer = this.kafka.producer({ allowAutoTopicCreation: false })
      await producer.connect()
      return producer
    })()
    const producer = await this.#producer.catch((error: unknown) => {
      this.#producer = undefined
      throw error
    })
    const headers: IHeaders = {
      ...bad.record.headers,
      'kdp-error-reason': bad.reason,
      'kdp-source-topic': bad.topic,
      'kdp-source-partition': String(bad.partition),
      'kdp-source-offset': String(bad.record.offset),
    }
    await producer.send({
      topic: dlqTopic,
      acks: -1,
      messages: [{ key: bad.record.key, value: bad.record.value, headers }],
    })
  }

  async #ensureTopic(topic: string): Promise<void> {
    if (this.#ensured.has(topic)) return
    const admin = this.kafka.admin()
    await admin.connect()
    try {
      if (!(await admin.listTopics()).includes(topic)) {
        const brokers = (await admin.describeCluster()).brokers.length
        await admin.createTopics({
          topics: [{ topic, numPartitions: 1, replicationFactor: Math.min(3, brokers) }],
          waitForLeaders: true,
        })
      }
      this.#ensured.add(topic)
    } finally {
      await admin.disconnect()
    }
  }

  async close(): Promise<void> {
    const producer = this.#producer
    this.#producer = undefined
    if (producer) await (await producer.catch(() => undefined))?.disconnect()
  }
}
