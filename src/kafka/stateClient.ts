import { randomBytes } from 'node:crypto'
import { type Consumer, type IHeaders, Kafka, type KafkaConfig, logLevel, type Producer } from 'kafkajs'
import type { Logger } from '../util/logging.js'
import { applyKafkajsIdleFix } from './idleFix.js'

/** One record as the state stores see it. */
export interface LogRecord {
  readonly partition: number
  readonly offset: number
  readonly key: string | null
  readonly value: Buffer | null
  readonly timestamp: number
}

export interface OutgoingRecord {
  readonly key: string
  /** null: a tombstone. */
  readonly value: string | Buffer | null
  readonly headers?: IHeaders
}

export interface TopicSpec {
  readonly topic: string
  readonly partitions: number
  readonly replicationFactor?: number
  readonly config?: Readonly<Record<string, string>>
}

/** A running read of a topic from its beginning. */
export interface Tail {
  stop(): Promise<void>
}

/**
 * What the cluster-state stores need from Kafka. Kept small so kafkajs can be replaced; the
 * coordination core has its own, even smaller, GroupMembership.
 */
export interface KafkaClient {
  /** Produces one record with acks=all; resolves with where it landed. */
  produce(topic: string, record: OutgoingRecord): Promise<{ partition: number; offset: number }>
  /** Reads every partition of `topic` from the beginning and keeps following it. */
  tail(topic: string, onRecord: (record: LogRecord) => void): Promise<Tail>
  /** The next offset to be written, per partition (the high watermark). */
  endOffsets(topic: string): Promise<Map<number, number>>
  /** Creates the topic if missing (idempotent). */
  ensureTopic(spec: TopicSpec): Promise<void>
  listTopics(): Promise<string[]>
  /** Records not yet committed by `groupId` on `topic` (0 for a group with no commits on an empty topic). */
  groupLag(groupId: string, topic: string): Promise<number>
  disconnect(): Promise<void>
}

export interface KafkaClientOptions {
  readonly brokers: readonly string[]
  readonly clientId: string
  readonly kafka?: Pick<KafkaConfig, 'ssl' | 'sasl' | 'connectionTimeout' | 'requestTimeout'>
  readonly logger: Logger
}

/** KafkaClient on kafkajs 2.2.4. */
export class KafkajsClient implements KafkaClient {
  readonly #kafka: Kafka
  readonly #logger: Logger
  #producer: Promise<Producer> | undefined
  readonly #tails = new Set<Consumer>()

  constructor(options: KafkaClientOptions) {
    applyKafkajsIdleFix()
    this.#logger = options.logger
    const logger = options.logger.child({ component: 'kafkajs' })
    this.#kafka = new Kafka({
      brokers: [...options.brokers],
      clientId: options.clientId,
      ...options.kafka,
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log }) => {
          const { message, timestamp: _t, logger: _l, ...fields } = log
          if (level <= logLevel.ERROR && !message.startsWith('Response ')) logger.error(message, fields)
          else logger.debug(message, fields)
        },
    })
  }

  #connectedProducer(): Promise<Producer> {
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: true,
        maxInFlightRequests: 1,
      })
      await producer.connect()
      return producer
    })().catch((error: unknown) => {
      this.#producer = undefined
      throw error
    })
    return this.#producer
  }

  async produce(topic: string, record: OutgoingRecord): Promise<{ partition: number; offset: number }> {
    const producer = await this.#connectedProducer()
    const [result] = await producer.send({ topic, acks: -1, messages: [{ ...record }] })
    if (!result) throw new Error(`no produce result for ${topic}`)
    return { partition: result.partition, offset: Number(result.baseOffset ?? result.offset ?? -1) }
  }

  async tail(topic: string, onRecord: (record: LogRecord) => void): Promise<Tail> {
    // A private group per reader: every node reads every partition; no offsets are committed, so
    // the empty group disappears when the reader leaves.
    const consumer = this.#kafka.consumer({
      groupId: `kdp-reader-${topic}-${randomBytes(6).toString('hex')}`,
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

  async #withAdmin<T>(work: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
    const admin = this.#kafka.admin()
    await admin.connect()
    try {
      return await work(admin)
    } finally {
      await admin.disconnect()
    }
  }

  endOffsets(topic: string): Promise<Map<number, number>> {
    return this.#withAdmin(async (admin) => {
      const offsets = await admin.fetchTopicOffsets(topic)
      return new Map(offsets.map((o) => [o.partition, Number(o.high)]))
    })
  }

  ensureTopic(spec: TopicSpec): Promise<void> {
    return this.#withAdmin(async (admin) => {
      if ((await admin.listTopics()).includes(spec.topic)) return
      const brokers = (await admin.describeCluster()).brokers.length
      const created = await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor: spec.replicationFactor ?? Math.min(3, brokers),
            configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
          },
        ],
      })
      if (created) this.#logger.info('created topic', { topic: spec.topic, partitions: spec.partitions })
    })
  }

  listTopics(): Promise<string[]> {
    return this.#withAdmin((admin) => admin.listTopics())
  }

  groupLag(groupId: string, topic: string): Promise<number> {
    return this.#withAdmin(async (admin) => {
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId, topics: [topic] }),
      ])
      const low = new Map(ends.map((o) => [o.partition, Number(o.low)]))
      const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
      return ends.reduce((lag, o) => {
        const position = Math.max(done.get(o.partition) ?? -1, low.get(o.partition) ?? 0)
        return lag + Math.max(0, Number(o.high) - position)
      }, 0)
    })
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.#tails].map((c) => c.disconnect()))
    this.#tails.clear()
    const producer = this.#producer
    this.#producer = undefined
    if (producer) await (await producer.catch(() => undefined))?.disconnect()
  }
}
