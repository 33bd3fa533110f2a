import type { ConsumedRecord, KafkaClient, RecordHeaders } from '../../kafka/index.js'

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
  readonly #ensured = new Map<string, Promise<unknown>>()

  constructor(private readonly kafka: KafkaClient) {}

  async write(dlqTopic: string, bad: BadRecord): Promise<void> {
    await this.#ensureTopic(dlqTopic)
    const headers: RecordHeaders = {
      ...bad.record.headers,
      'kdp-error-reason': bad.reason,
      'kdp-source-topic': bad.topic,
      'kdp-source-partition': String(bad.partition),
      'kdp-source-offset': String(bad.record.offset),
    }
    await this.kafka.sendBatch(dlqTopic, [{ key: bad.record.key, value: bad.record.value, headers }])
  }

  #ensureTopic(topic: string): Promise<unknown> {
    let ensured = this.#ensured.get(topic)
    if (!ensured) {
      ensured = this.kafka.ensureTopic({ topic, partitions: 1 })
      this.#ensured.set(topic, ensured)
      // A failed creation is tried again by the next write.
      ensured.catch(() => this.#ensured.delete(topic))
    }
    return ensured
  }
}
