import { CompactedView, jsonRecord, type KafkaClient } from '../../kafka/index.js'
import { describeFieldErrors } from '../../util/decode.js'
import type { Logger } from '../../util/logging.js'
import { configTopicSettings } from '../state/configStore.js'
import type { EventLog } from '../state/eventLog.js'
import {
  decodeStoredScalerConfig,
  defaultScalerConfig,
  type ScalerConfig,
  type ScalerConfigFields,
  scalerConfigKey,
} from './config.js'

/** Where the scaler's config is read and written: a store in memory (tests) or the config topic. */
export interface ScalerConfigSource {
  /** The config in effect (the defaults when none was written). */
  get(): ScalerConfig
  /** Replaces it; resolves once this node reads its own write back. */
  put(fields: ScalerConfigFields): Promise<ScalerConfig>
  subscribe(listener: (config: ScalerConfig) => void): () => void
}

/**
 * The scaler's config in the config topic, under `kdp:scaler` (a key no topic can have). Its own view
 * of the topic, with its own codec: it reads that one key and passes every topic config over, as the
 * topic-config store passes this record over. A tombstone, or a record that does not decode (logged),
 * leaves the defaults (or the last good config) in effect.
 */
export class KafkaScalerConfigStore implements ScalerConfigSource {
  readonly #view: CompactedView<ScalerConfig>

  constructor(
    private readonly client: KafkaClient,
    readonly topic: string,
    private readonly events: EventLog | undefined,
    logger: Logger,
  ) {
    const decode = jsonRecord<ScalerConfig>((value) => {
      const decoded = decodeStoredScalerConfig(value)
      return decoded.ok
        ? { ok: true, value: decoded.config }
        : { ok: false, reason: describeFieldErrors(decoded.errors) }
    })
    this.#view = new CompactedView(
      client,
      topic,
      (record) => (record.key === scalerConfigKey ? decode(record) : { kind: 'ignore' }),
      logger,
    )
  }

  async start(): Promise<void> {
    await this.client.ensureTopic({ topic: this.topic, ...configTopicSettings })
    await this.#view.start()
  }

  stop(): Promise<void> {
    return this.#view.stop()
  }

  get(): ScalerConfig {
    return this.#view.get(scalerConfigKey) ?? defaultScalerConfig
  }

  async put(fields: ScalerConfigFields): Promise<ScalerConfig> {
    const config: ScalerConfig = {
      ...fields,
      version: 1,
      revision: this.get().revision + 1,
      updatedAt: new Date().toISOString(),
    }
    const { partition, offset } = await this.client.produce(this.topic, {
      key: scalerConfigKey,
      value: JSON.stringify(config),
    })
    await this.#view.waitFor(partition, offset)
    await this.events?.emit({ type: 'scaler-config-changed', revision: config.revision })
    return this.get()
  }

  subscribe(listener: (config: ScalerConfig) => void): () => void {
    return this.#view.subscribe(() => listener(this.get()))
  }
}

/** A ScalerConfigSource in memory, for tests of the HTTP API and of code that reads the config. */
export class MemoryScalerConfigStore implements ScalerConfigSource {
  #config: ScalerConfig = defaultScalerConfig
  readonly #listeners = new Set<(config: ScalerConfig) => void>()
  /** Failure injection: every write rejects with this error. */
  failWrites: Error | undefined

  get(): ScalerConfig {
    return this.#config
  }

  async put(fields: ScalerConfigFields): Promise<ScalerConfig> {
    await Promise.resolve()
    if (this.failWrites) throw this.failWrites
    this.#config = {
      ...fields,
      version: 1,
      revision: this.#config.revision + 1,
      updatedAt: new Date().toISOString(),
    }
    for (const listener of this.#listeners) listener(this.#config)
    return this.#config
  }

  subscribe(listener: (config: ScalerConfig) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
