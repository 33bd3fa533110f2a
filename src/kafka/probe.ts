import { withTimeout } from '../util/timeout.js'
import { createKafka } from './client.js'
import type { KafkaConnectionOptions } from './connection.js'

/** The innermost message of a kafkajs error (its retries wrap the real cause). */
export function kafkaErrorMessage(error: unknown): string {
  let current: unknown = error
  for (let depth = 0; depth < 5; depth++) {
    const next = (current as { originalError?: unknown } | null)?.originalError
    if (next === undefined || next === null) break
    current = next
  }
  return current instanceof Error ? current.message : String(current)
}

/**
 * Connects to the brokers and reads the cluster's metadata, with few retries; rejects with one
 * readable line if it cannot. For command-line tools, before they start anything.
 */
export async function probeBrokers(options: KafkaConnectionOptions, timeoutMs = 20_000): Promise<void> {
  const kafka = createKafka({
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 10_000,
    ...options,
    logger: options.logger,
  })
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 2000 } })
  try {
    await withTimeout(
      (async () => {
        await admin.connect()
        await admin.describeCluster()
      })(),
      timeoutMs,
      'Kafka metadata',
    )
  } catch (error) {
    throw new Error(
      `cannot reach the Kafka brokers ${options.brokers.join(',')}: ${kafkaErrorMessage(error)}`,
    )
  } finally {
    await admin.disconnect().catch(() => {})
  }
}
