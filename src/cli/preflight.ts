// Checks done before a CLI starts anything, so that an unreachable broker or an unusable sink is one
// clear line instead of a stream of retries.
import { randomBytes } from 'node:crypto'
import { access, constants, mkdir } from 'node:fs/promises'
import { Kafka, logLevel } from 'kafkajs'
import { messageOf } from '../sinks/errors.js'
import { parseSinkUrl } from '../sinks/location.js'
import type { Sink } from '../sinks/sink.js'

/** A startup problem: the CLI prints `message` and exits 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError'
}

async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms / 1000)} s (${what})`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The innermost message of a kafkajs error (its retries wrap the real cause). */
function kafkaMessage(error: unknown): string {
  let current: unknown = error
  for (let depth = 0; depth < 5; depth++) {
    const next = (current as { originalError?: unknown; cause?: unknown } | null)?.originalError
    if (next === undefined || next === null) break
    current = next
  }
  return current instanceof Error ? current.message : String(current)
}

/** Connects to the brokers and reads the cluster's metadata; throws a StartupError if it cannot. */
export async function checkBrokers(brokers: readonly string[], timeoutMs = 20_000): Promise<void> {
  const kafka = new Kafka({
    brokers: [...brokers],
    clientId: 'kdp-preflight',
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
  })
  const admin = kafka.admin()
  try {
    await withTimeout(
      'Kafka metadata',
      timeoutMs,
      (async () => {
        await admin.connect()
        await admin.describeCluster()
      })(),
    )
  } catch (error) {
    throw new StartupError(`cannot reach the Kafka brokers ${brokers.join(',')}: ${kafkaMessage(error)}`)
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

/**
 * Checks that the sink can be used: a file sink's directory is created if missing and must be
 * writable; an S3 sink's bucket must answer a listing (which proves the endpoint, the bucket and
 * the credentials) — except that a policy denying listing only gives `warning`.
 */
export async function checkSink(
  sink: Sink,
  options: { timeoutMs?: number; warn: (message: string) => void },
): Promise<void> {
  const location = parseSinkUrl(sink.url)
  if (location.kind === 'file') {
    try {
      await mkdir(location.dir, { recursive: true })
      await access(location.dir, constants.W_OK)
    } catch (error) {
      throw new StartupError(`the sink directory ${location.dir} is not writable: ${messageOf(error)}`)
    }
    return
  }
  try {
    // A prefix that matches nothing: one cheap request, whatever the size of the archive.
    await withTimeout(
      'S3 listing',
      options.timeoutMs ?? 20_000,
      sink.list(`kdp-startup-check-${randomBytes(4).toString('hex')}/`),
    )
  } catch (error) {
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error
    const name = cause instanceof Error ? cause.name : ''
    if (name === 'AccessDenied' || name === 'Forbidden') {
      options.warn(
        `cannot list ${sink.url} (${name}); going on, uploads will tell whether writes are allowed`,
      )
      return
    }
    throw new StartupError(`the sink ${sink.url} is not usable: ${messageOf(cause)}`)
  }
}
