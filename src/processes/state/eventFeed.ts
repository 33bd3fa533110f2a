import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { KafkaClient, LogRecord, Tail } from '../../kafka/index.js'
import { described, NonNegativeInteger } from '../../util/codecs.js'
import { fieldErrors } from '../../util/decode.js'
import { messageOf } from '../../util/errors.js'
import type { Logger } from '../../util/logging.js'

/** The fields every event record of the events topic carries (EventLog writes them). */
const EventEnvelope = t.type({ type: t.string, nodeId: t.string, at: t.string })

/**
 * One event of the events topic, as the dashboard and `GET /events` show it: its kind, who wrote it
 * and when, and its own fields. Kinds this node does not know (a newer node's, a scaler's) are shown
 * too: only the envelope is required.
 */
export const FeedEvent = described(
  t.readonly(
    t.type({
      offset: described(NonNegativeInteger, 'Its offset in the events topic: newer events have larger ones.'),
      type: described(
        t.string,
        '`config-changed`, `config-deleted`, `topic-discovered`, `process-failed`, `process-restarted`, ' +
          '`heavy-use`, `master-started`, or a kind added later (a scaler’s decisions).',
      ),
      nodeId: described(t.string, 'The node that wrote it.'),
      at: described(t.string, 'When (ISO 8601, the writer’s clock).'),
      details: described(
        t.record(t.string, t.unknown),
        'The event’s own fields: `topic`, `revision`, `group`, `key`, `error`, `reasons`, ...',
      ),
    }),
  ),
  'An event of the cluster: a config change, a failure, a heavy-use warning, a scaling decision.',
)
export type FeedEvent = t.TypeOf<typeof FeedEvent>

/** The event of a record, or why it cannot be shown. */
export function feedEvent(record: LogRecord): FeedEvent | { invalid: string } {
  if (record.value === null) return { invalid: 'no value' }
  let parsed: unknown
  try {
    parsed = JSON.parse(record.value.toString('utf8'))
  } catch (error) {
    return { invalid: `not JSON: ${messageOf(error)}` }
  }
  const envelope = EventEnvelope.decode(parsed)
  if (isLeft(envelope))
    return {
      invalid: fieldErrors(envelope.left)
        .map((e) => `${e.path}: ${e.message}`)
        .join('; '),
    }
  const details: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(parsed as object))
    if (!Object.hasOwn(EventEnvelope.props, key)) details[key] = value
  // io-ts hands back the input object itself: only the envelope's three fields are taken from it.
  const { type, nodeId, at } = envelope.right
  return { offset: record.offset, type, nodeId, at, details }
}

/** The latest events, as the dashboard and `GET /events` read them. */
export interface EventView {
  /** The latest events, oldest first (at most `keep`); starts reading the topic on the first call. */
  recent(): Promise<FeedEvent[]>
  /** Called for every event read after this call; returns the unsubscribe function. */
  subscribe(listener: (event: FeedEvent) => void): () => void
}

/**
 * Reads the events topic and keeps its latest `keep` events. It reads only once someone asks (a
 * dashboard, `GET /events`): a node nobody watches pays nothing for it; it then reads the topic
 * from its beginning (7 days of rare events) and follows it until `stop()`.
 */
export class EventFeed implements EventView {
  readonly #events: FeedEvent[] = []
  readonly #listeners = new Set<(event: FeedEvent) => void>()
  #tail: Promise<Tail> | undefined
  #stopped = false
  /** Resolves once the events that were in the topic when reading began have been read. */
  #caughtUp: Promise<void> | undefined
  /** Ends the wait for the catch-up (a stop must not leave `recent()` waiting). */
  #release: () => void = () => {}

  constructor(
    private readonly client: Pick<KafkaClient, 'tail' | 'endOffsets'>,
    readonly topic: string,
    private readonly logger: Logger,
    private readonly keep = 200,
  ) {}

  async recent(): Promise<FeedEvent[]> {
    await this.#start()
    return [...this.#events]
  }

  subscribe(listener: (event: FeedEvent) => void): () => void {
    void this.#start().catch(() => {})
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#listeners.clear()
    this.#release()
    const tail = await this.#tail?.catch(() => undefined)
    await tail?.stop()
  }

  #start(): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    this.#caughtUp ??= this.#read().catch((error: unknown) => {
      // A later call tries again (the broker may be back).
      this.#caughtUp = undefined
      this.#tail = undefined
      this.logger.warn('could not read the events topic', { topic: this.topic, error: messageOf(error) })
      throw error
    })
    return this.#caughtUp
  }

  /** Starts the tail and resolves once it read what the topic held at the start. */
  async #read(): Promise<void> {
    const remaining = new Map([...(await this.client.endOffsets(this.topic))].filter(([, end]) => end > 0))
    let caughtUp: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      caughtUp = resolve
    })
    if (remaining.size === 0) caughtUp()
    this.#release = caughtUp
    const tail = this.client.tail(this.topic, (record) => {
      this.#apply(record)
      const end = remaining.get(record.partition)
      if (end !== undefined && record.offset >= end - 1) {
        remaining.delete(record.partition)
        if (remaining.size === 0) caughtUp()
      }
    })
    this.#tail = tail
    const started = await tail
    // Stopped while the tail was starting: stop() may not have seen it.
    if (this.#stopped) {
      await started.stop()
      return
    }
    await done
  }

  #apply(record: LogRecord): void {
    const event = feedEvent(record)
    if ('invalid' in event) {
      this.logger.warn('event record skipped', {
        topic: this.topic,
        offset: record.offset,
        reason: event.invalid,
      })
      return
    }
    this.#events.push(event)
    if (this.#events.length > this.keep) this.#events.splice(0, this.#events.length - this.keep)
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (error) {
        this.logger.error('event listener failed', { error: messageOf(error) })
      }
    }
  }
}
