import type { Logger } from '../util/logging.js'
import type { LogRecord, RecordLog, Tail, TopicAdmin } from './types.js'

/**
 * How a view turns a record into a value: a value, a deletion, a record to skip (logged), or a record
 * this view does not read (another reader of the same topic does: silently passed over).
 */
export type Decoded<V> =
  | { kind: 'value'; value: V }
  | { kind: 'delete' }
  | { kind: 'skip'; reason: string }
  | { kind: 'ignore' }

/**
 * The latest value per key of a compacted topic, on this node. `start()` reads the topic to its end
 * before resolving (a node serves nothing stale at startup); afterwards updates apply live.
 * `waitFor()` gives read-your-writes: resolve once a given offset has been applied here.
 */
export class CompactedView<V> {
  readonly #values = new Map<string, V>()
  readonly #applied = new Map<number, number>()
  readonly #waiters = new Set<{ partition: number; offset: number; resolve: () => void }>()
  readonly #listeners = new Set<(key: string, value: V | undefined) => void>()
  #tail: Tail | undefined

  constructor(
    private readonly client: Pick<RecordLog, 'tail'> & Pick<TopicAdmin, 'endOffsets'>,
    readonly topic: string,
    private readonly decode: (record: LogRecord) => Decoded<V>,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const ends = await this.client.endOffsets(this.topic)
    this.#tail = await this.client.tail(this.topic, (record) => this.#apply(record))
    await Promise.all(
      [...ends].filter(([, end]) => end > 0).map(([partition, end]) => this.waitFor(partition, end - 1)),
    )
  }

  async stop(): Promise<void> {
    await this.#tail?.stop()
    this.#tail = undefined
  }

  get(key: string): V | undefined {
    return this.#values.get(key)
  }

  entries(): ReadonlyMap<string, V> {
    return this.#values
  }

  subscribe(listener: (key: string, value: V | undefined) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Resolves once the record at `offset` of `partition` (or a later one) has been applied here. */
  waitFor(partition: number, offset: number): Promise<void> {
    if ((this.#applied.get(partition) ?? -1) >= offset) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.add({ partition, offset, resolve }))
  }

  #apply(record: LogRecord): void {
    const key = record.key
    if (key === null) {
      this.logger.warn('record without a key skipped', {
        topic: this.topic,
        partition: record.partition,
        offset: record.offset,
      })
    } else {
      const decoded = this.decode(record)
      if (decoded.kind === 'skip') {
        this.logger.error('record does not decode; skipped', {
          topic: this.topic,
          partition: record.partition,
          offset: record.offset,
          key,
          reason: decoded.reason,
        })
      } else if (decoded.kind !== 'ignore') {
        const value = decoded.kind === 'value' ? decoded.value : undefined
        if (value === undefined) this.#values.delete(key)
        else this.#values.set(key, value)
        for (const listener of this.#listeners) {
          try {
            listener(key, value)
          } catch (error) {
            this.logger.error('view listener failed', { topic: this.topic, error: String(error) })
          }
        }
      }
    }
    this.#applied.set(record.partition, record.offset)
    for (const waiter of this.#waiters) {
      if (waiter.partition === record.partition && waiter.offset <= record.offset) {
        this.#waiters.delete(waiter)
        waiter.resolve()
      }
    }
  }
}

/** Decodes a JSON record value with `check`; a null value is a deletion (tombstone). */
export function jsonRecord<V>(
  check: (value: unknown) => { ok: true; value: V } | { ok: false; reason: string },
) {
  return (record: LogRecord): Decoded<V> => {
    if (record.value === null) return { kind: 'delete' }
    let parsed: unknown
    try {
      parsed = JSON.parse(record.value.toString('utf8'))
    } catch (error) {
      return { kind: 'skip', reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
    }
    const checked = check(parsed)
    return checked.ok ? { kind: 'value', value: checked.value } : { kind: 'skip', reason: checked.reason }
  }
}
