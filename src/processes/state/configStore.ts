import type { KafkaClient } from '../../kafka/index.js'
import { CompactedView, jsonRecord } from '../../kafka/index.js'
import { describeFieldErrors } from '../../util/decode.js'
import type { Logger } from '../../util/logging.js'
import type { EventLog } from './eventLog.js'
import type { ConfigStore } from './stores.js'
import {
  decodeStoredConfig,
  isValidTopicName,
  type TopicConfig,
  type TopicConfigFields,
} from './topicConfig.js'

/** Topic settings of the config topic: one partition (a total order of writes), compacted. */
export const configTopicSettings = {
  partitions: 1,
  config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' },
}

/**
 * ConfigStore on a compacted single-partition topic, keyed by the archived topic's name. Every node
 * holds the whole map; a record that does not decode is logged with its offset and skipped.
 * Concurrent writers to one topic's config: the last write wins (the log orders them). Records whose
 * key is not a topic name are other readers' (see scaler/configStore.ts) and are passed over.
 */
export class KafkaConfigStore implements ConfigStore {
  readonly #view: CompactedView<TopicConfig>

  constructor(
    private readonly client: KafkaClient,
    readonly topic: string,
    private readonly events: EventLog | undefined,
    logger: Logger,
  ) {
    const decode = jsonRecord<TopicConfig>((value) => {
      const decoded = decodeStoredConfig(value)
      return decoded.ok
        ? { ok: true, value: decoded.config }
        : { ok: false, reason: describeFieldErrors(decoded.errors) }
    })
    // Keys that are not topic names belong to other readers of this topic (the scaler's `kdp:scaler`).
    this.#view = new CompactedView(
      client,
      topic,
      (record) =>
        record.key !== null && !isValidTopicName(record.key) ? { kind: 'ignore' } : decode(record),
      logger,
    )
  }

  /** Creates the topic if needed and reads it to its end. */
  async start(): Promise<void> {
    await this.client.ensureTopic({ topic: this.topic, ...configTopicSettings })
    await this.#view.start()
  }

  stop(): Promise<void> {
    return this.#view.stop()
  }

  list(): TopicConfig[] {
    return [...this.#view.entries().values()].sort((a, b) => a.topic.localeCompare(b.topic))
  }

  get(topic: string): TopicConfig | undefined {
    return this.#view.get(topic)
  }

  async put(topic: string, fields: TopicConfigFields): Promise<TopicConfig> {
    const config: TopicConfig = {
      ...fields,
      version: 1,
      topic,
      revision: (this.get(topic)?.revision ?? 0) + 1,
      updatedAt: new Date().toISOString(),
    }
    const { partition, offset } = await this.client.produce(this.topic, {
      key: topic,
      value: JSON.stringify(config),
    })
    await this.#view.waitFor(partition, offset)
    await this.events?.emit({ type: 'config-changed', topic, revision: config.revision })
    return this.get(topic) ?? config
  }

  async update(
    topic: string,
    change: (current: TopicConfig) => TopicConfigFields,
  ): Promise<TopicConfig | undefined> {
    const current = this.get(topic)
    if (!current) return undefined
    return this.put(topic, change(current))
  }

  async delete(topic: string): Promise<boolean> {
    if (!this.get(topic)) return false
    const { partition, offset } = await this.client.produce(this.topic, { key: topic, value: null })
    await this.#view.waitFor(partition, offset)
    await this.events?.emit({ type: 'config-deleted', topic })
    return true
  }

  subscribe(listener: (topic: string, config: TopicConfig | undefined) => void): () => void {
    return this.#view.subscribe(listener)
  }
}

/** The user-settable fields of a stored config (what `update` callbacks return unchanged). */
export { fieldsOf } from './topicConfig.js'
