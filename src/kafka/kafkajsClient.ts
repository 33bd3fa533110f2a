import { randomBytes } from 'node:crypto'
import { type Consumer, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs'
import type { GroupMembership, MembershipOptions } from '../coordination/groupMembership.js'
import { epochsTopicOf } from '../coordination/technicalTopic.js'
import type { Logger } from '../util/logging.js'
import { SharedPromise } from '../util/sharedPromise.js'
import { endOffsets, ensureTopic, groupLag, partitionCount, withAdmin } from './admin.js'
import { createKafka } from './client.js'
import type { KafkaConnectionOptions } from './connection.js'
import { AppendedEpochStore } from './epochStore.js'
import { KafkajsMembership } from './membership.js'
import { kafkajsTopicConsumer } from './topicConsumer.js'
import type {
  KafkaClient,
  LogRecord,
  OutgoingRecord,
  Tail,
  TopicConsumer,
  TopicConsumerOptions,
  TopicSpec,
} from './types.js'

function toMessage(record: OutgoingRecord): Message {
  return {
    key: record.key,
    value: record.value,
    ...(record.headers !== undefined && { headers: { ...record.headers } }),
    ...(record.timestamp !== undefined && { timestamp: String(record.timestamp) }),
  }
}

/** KafkaClient on kafkajs 2.2.4. */
export class KafkajsClient implements KafkaClient {
  readonly #kafka: Kafka
  readonly #options: KafkaConnectionOptions
  #trigger: Kafka | undefined
  readonly #logger: Logger
  readonly #producer: SharedPromise<Producer>
  readonly #tails = new Set<Consumer>()
  /** Listeners of kafkajs's "Crash:" log line, by consumer group. */
  readonly #crashListeners = new Map<string, Set<() => void>>()

  constructor(options: KafkaConnectionOptions) {
    this.#options = options
    this.#logger = options.logger
    this.#kafka = createKafka(options, (groupId) => {
      for (const listener of this.#crashListeners.get(groupId) ?? []) listener()
    })
    this.#producer = new SharedPromise(async () => {
      const producer = this.#kafka.producer({
        // The partitioner of kafkajs 2 (murmur2, as the Java client); saying so silences its warning.
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        idempotent: true,
        maxInFlightRequests: 1,
      })
      await producer.connect()
      return producer
    })
  }

  async produce(topic: string, record: OutgoingRecord): Promise<{ partition: number; offset: number }> {
    const producer = await this.#producer.get()
    const [result] = await producer.send({ topic, acks: -1, messages: [toMessage(record)] })
    if (!result) throw new Error(`no produce result for ${topic}`)
    return { partition: result.partition, offset: Number(result.baseOffset ?? result.offset ?? -1) }
  }

  async sendBatch(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    const producer = await this.#producer.get()
    await producer.send({ topic, acks: -1, messages: records.map(toMessage) })
  }

  async tail(topic: string, onRecord: (record: LogRecord) => void): Promise<Tail> {
    // A private group per reader: every node reads every partition; no offsets are committed, so
    // the empty group disappears when the reader leaves.
    const consumer = this.#kafka.consumer({
      groupId: `${topic}-reader-${randomBytes(6).toString('hex')}`,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        onRecord({
          partition,
          offset: Number(message.offset),
          key: message.key?.toString('utf8') ?? null,
          value: message.value,
          timestamp: Number(message.timestamp),
        })
      },
    })
    this.#tails.add(consumer)
    return {
      stop: async () => {
        this.#tails.delete(consumer)
        await consumer.disconnect()
      },
    }
  }

  endOffsets(topic: string): Promise<Map<number, number>> {
    return endOffsets(this.#kafka, topic)
  }

  ensureTopic(spec: TopicSpec): Promise<{ partitions: number; created: boolean }> {
    return ensureTopic(this.#kafka, spec, this.#logger)
  }

  partitionCount(topic: string): Promise<number | undefined> {
    return partitionCount(this.#kafka, topic)
  }

  listTopics(): Promise<string[]> {
    return withAdmin(this.#kafka, (admin) => admin.listTopics())
  }

  groupLag(groupId: string, topic: string): Promise<Map<number, number>> {
    return groupLag(this.#kafka, groupId, topic)
  }

  membership(options: MembershipOptions): GroupMembership {
    return new KafkajsMembership(
      this.#kafka,
      () => this.#triggerKafka(),
      options,
      new AppendedEpochStore(this, epochsTopicOf(options.topic)),
      (listener) => this.#onCrashLog(options.groupId, listener),
    )
  }

  topicConsumer(groupId: string, topic: string, options?: TopicConsumerOptions): TopicConsumer {
    return kafkajsTopicConsumer(this.#kafka, groupId, topic, options)
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.#tails].map((c) => c.disconnect()))
    this.#tails.clear()
    const producer = await this.#producer.take()
    await producer?.disconnect()
  }

  /** Trigger members get a client of their own: their "Crash:" log line must not stop our slices. */
  #triggerKafka(): Kafka {
    this.#trigger ??= createKafka({ ...this.#options, clientId: `${this.#options.clientId}-trigger` })
    return this.#trigger
  }

  #onCrashLog(groupId: string, listener: () => void): () => void {
    const listeners = this.#crashListeners.get(groupId) ?? new Set()
    listeners.add(listener)
    this.#crashListeners.set(groupId, listeners)
    return () => listeners.delete(listener)
  }
}
