import { withTimeout } from '../util/timeout.js'
import { createKafka } from './client.js'
import type { KafkaConnectionOptions } from './connection.js'

/** The innermost message of a kafkajs error (its retries wrap the real cause). */
export function kafkaErrorMessage(error: unknown): string {
  const innermost = chain(error).at(-1)
  return innermost instanceof Error ? innermost.message : String(innermost)
}

/**
 * Why the brokers could not be used: not reached at all, SASL refused, their certificate not
 * trusted by this client, or the TLS handshake refused by them (mutual TLS without a good client
 * certificate).
 */
export type BrokerProblem = 'unreachable' | 'authentication' | 'untrusted-certificate' | 'tls-refused'

/** A failed probe: one readable line, and what kind of problem it was. */
export class BrokerProbeError extends Error {
  override readonly name = 'BrokerProbeError'
  constructor(
    message: string,
    readonly problem: BrokerProblem,
  ) {
    super(message)
  }
}

/** The errors of a kafkajs error's chain, outermost first. */
function chain(error: unknown): unknown[] {
  const errors: unknown[] = []
  let current: unknown = error
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    errors.push(current)
    // kafkajs wraps with `originalError` (retries) or `cause` (non-retriable errors).
    const { originalError, cause } = current as { originalError?: unknown; cause?: unknown }
    current = originalError ?? cause
  }
  return errors
}

// Node's codes for a certificate the client does not trust (tls.connect's verification).
const untrustedCertificate =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_\w+|ERR_TLS_CERT_ALTNAME_INVALID)$/

/** Sorts a probe failure into a problem with a line that says what to check. */
export function classifyBrokerError(error: unknown): { problem: BrokerProblem; message: string } {
  const errors = chain(error)
  const message = kafkaErrorMessage(error)
  const named = (name: string) => errors.some((e) => (e as { name?: unknown }).name === name)
  if (named('CredentialsError')) return { problem: 'authentication', message: `no credentials: ${message}` }
  if (named('KafkaJSSASLAuthenticationError')) {
    return { problem: 'authentication', message: `authentication failed: ${message}` }
  }
  const code = errors.map((e) => (e as { code?: unknown }).code).find((c) => typeof c === 'string')
  if (typeof code === 'string' && untrustedCertificate.test(code)) {
    return {
      problem: 'untrusted-certificate',
      message: `their TLS certificate is not trusted: ${message} (${code})`,
    }
  }
  if (typeof code === 'string' && code.startsWith('ERR_SSL_')) {
    const alert = /alert ([a-z ]+?)(?::|$)/.exec(message)?.[1] ?? code
    return { problem: 'tls-refused', message: `they refused the TLS handshake (${alert})` }
  }
  return { problem: 'unreachable', message }
}

/**
 * Connects to the brokers and reads the cluster's metadata, with few retries; rejects with a
 * BrokerProbeError (one readable line) if it cannot. For command-line tools, before they start
 * anything.
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
    const { problem, message } = classifyBrokerError(error)
    const what =
      problem === 'unreachable' ? 'cannot reach the Kafka brokers' : 'cannot connect to the Kafka brokers'
    throw new BrokerProbeError(`${what} ${options.brokers.join(',')}: ${message}`, problem)
  } finally {
    await admin.disconnect().catch(() => {})
  }
}
