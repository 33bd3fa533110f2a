// The load generator: fake tweets to a Kafka topic at a steady rate. `cli.ts` is its command line,
// `main.ts` the `kdp-loadgen` command; the demo runs it in-process through startLoad().
import { connectKafka, type KafkaSecurity } from '../kafka/index.js'
import type { Logger } from '../util/logging.js'
import { sleep } from '../util/sleep.js'
import { fakeTweets } from './tweets.js'

export interface LoadOptions {
  readonly brokers: readonly string[]
  /** TLS, SASL and timeouts of the connection. */
  readonly kafka?: KafkaSecurity
  readonly topic: string
  /** Partitions of the topic when it has to be created. */
  readonly partitions: number
  /** Records per second; 0: as fast as the broker takes them. */
  readonly rate: number
  readonly valueBytes: number
  readonly keys: number
  /** Stop after this many records (undefined: no limit). */
  readonly count: number | undefined
  /** Stop after this long (undefined: no limit). */
  readonly durationMs: number | undefined
  readonly seed: number
}

/** A running load. */
export interface Load {
  /** Records and value bytes acknowledged by the broker so far. */
  sent(): { records: number; bytes: number }
  /** Partitions of the topic. */
  readonly partitions: number
  /** Whether the topic was created by this load. */
  readonly created: boolean
  /** Settles when the load ended (count or duration reached, or stop()); rejects if producing failed. */
  readonly done: Promise<void>
  /** Stops producing (after the batch in flight) and disconnects. */
  stop(): Promise<void>
}

/** Largest batch of one send, in bytes of values: well below the broker's 1 MiB per record batch. */
const batchBytes = 512 * 1024

/**
 * Creates the topic if missing and produces fake tweets at `rate` (a steady pace, caught up in
 * batches of at most 1000 records) until the count or duration is reached or stop() is called.
 */
export async function startLoad(options: LoadOptions, logger: Logger): Promise<Load> {
  const kafka = connectKafka({ brokers: options.brokers, clientId: 'kdp-loadgen', ...options.kafka, logger })
  let topic: { partitions: number; created: boolean }
  try {
    topic = await kafka.ensureTopic({ topic: options.topic, partitions: options.partitions })
  } catch (error) {
    await kafka.disconnect().catch(() => {})
    throw error
  }
  const { partitions, created } = topic

  const tweets = fakeTweets({ seed: options.seed, valueBytes: options.valueBytes, keys: options.keys })
  const maxBatch = Math.max(1, Math.min(1000, Math.floor(batchBytes / options.valueBytes)))
  let records = 0
  let bytes = 0
  let stopping = false
  const wake = new AbortController()

  const loop = async (): Promise<void> => {
    const started = performance.now()
    const limit = options.count ?? Number.POSITIVE_INFINITY
    while (!stopping && records < limit) {
      const elapsed = performance.now() - started
      if (options.durationMs !== undefined && elapsed >= options.durationMs) break
      const due = options.rate === 0 ? maxBatch : Math.floor((options.rate * elapsed) / 1000) - records
      const size = Math.min(due, maxBatch, limit - records)
      if (size <= 0) {
        // Sleep until the next record is due.
        const nextAt = ((records + 1) * 1000) / options.rate
        await sleep(Math.max(1, Math.min(100, nextAt - elapsed)), wake.signal)
        continue
      }
      const messages = Array.from({ length: size }, () => {
        const record = tweets.next().value
        return { key: record.key, value: record.value, timestamp: record.timestamp }
      })
      await kafka.sendBatch(options.topic, messages)
      records += size
      for (const m of messages) bytes += m.value.length
    }
  }
  const done = loop().finally(() => kafka.disconnect())
  // A failure is reported through `done`; this only keeps it from being an unhandled rejection.
  done.catch(() => {})
  return {
    sent: () => ({ records, bytes }),
    partitions,
    created,
    done,
    stop: async () => {
      stopping = true
      wake.abort()
      await done.catch(() => {})
    },
  }
}
