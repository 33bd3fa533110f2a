import { sleep } from '../../util/sleep.js'
import type { ConfigStore } from './stores.js'
import { decodeConfigFields, type TopicConfig, type TopicConfigFields } from './topicConfig.js'

/**
 * An in-memory ConfigStore, for tests of code that reads or writes topic configs (the HTTP API, a
 * custom master). A write becomes visible only after `writeDelayMs`, like a write to Kafka
 * that this node reads back later; put/update/delete resolve once it is visible (read-your-write).
 */
export class MemoryConfigStore implements ConfigStore {
  private readonly configs = new Map<string, TopicConfig>()
  private readonly listeners = new Set<(topic: string, config: TopicConfig | undefined) => void>()
  /** Failure injection: every write rejects with this error (as if the store could not reach Kafka). */
  failWrites: Error | undefined
  /** Failure injection: list() and get() throw this error. */
  failReads: Error | undefined
  /** How many writes were attempted. */
  writes = 0
  private revision = 0

  constructor(private readonly writeDelayMs = 0) {}

  list(): TopicConfig[] {
    if (this.failReads) throw this.failReads
    return [...this.configs.values()].sort((a, b) => a.topic.localeCompare(b.topic))
  }

  get(topic: string): TopicConfig | undefined {
    if (this.failReads) throw this.failReads
    return this.configs.get(topic)
  }

  async put(topic: string, fields: TopicConfigFields): Promise<TopicConfig> {
    await this.beforeWrite()
    const config: TopicConfig = {
      version: 1,
      topic,
      revision: ++this.revision,
      updatedAt: new Date().toISOString(),
      ...fields,
    }
    await this.apply(topic, config)
    return config
  }

  async update(
    topic: string,
    change: (current: TopicConfig) => TopicConfigFields,
  ): Promise<TopicConfig | undefined> {
    const current = this.configs.get(topic)
    if (!current) return undefined
    return this.put(topic, change(current))
  }

  async delete(topic: string): Promise<boolean> {
    await this.beforeWrite()
    if (!this.configs.has(topic)) return false
    await this.apply(topic, undefined)
    return true
  }

  subscribe(listener: (topic: string, config: TopicConfig | undefined) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Sets a config directly (test setup), visible at once. */
  seed(topic: string, fields: Partial<TopicConfigFields> = {}): TopicConfig {
    const config: TopicConfig = {
      ...decodeConfigFields({}),
      ...fields,
      version: 1,
      topic,
      revision: ++this.revision,
      updatedAt: new Date().toISOString(),
    }
    this.configs.set(topic, config)
    return config
  }

  private async beforeWrite(): Promise<void> {
    this.writes++
    await sleep(0)
    if (this.failWrites) throw this.failWrites
  }

  private async apply(topic: string, config: TopicConfig | undefined): Promise<void> {
    if (this.writeDelayMs > 0) await sleep(this.writeDelayMs)
    if (config) this.configs.set(topic, config)
    else this.configs.delete(topic)
    for (const listener of this.listeners) listener(topic, config)
  }
}
