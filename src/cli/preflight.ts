// Checks done before a CLI starts anything, so that an unreachable broker or an unusable sink is one
// clear line instead of a stream of retries.
import { randomBytes } from 'node:crypto'
import { access, constants, mkdir } from 'node:fs/promises'
import { BrokerProbeError, type BrokerProblem, type KafkaSecurity, probeBrokers } from '../kafka/index.js'
import { parseSinkUrl } from '../sinks/location.js'
import type { Sink } from '../sinks/sink.js'
import { messageOf } from '../util/errors.js'
import { silentLogger } from '../util/logging.js'
import { withTimeout } from '../util/timeout.js'

/** A startup problem: the CLI prints `message` and exits with `exitCode` (1: cannot start, 3: refused). */
export class StartupError extends Error {
  override readonly name = 'StartupError'
  constructor(
    message: string,
    readonly exitCode: 1 | 3 = 1,
  ) {
    super(message)
  }
}

/** What to check for each kind of refusal, in the flags' words. */
const hints: Readonly<Record<BrokerProblem, string>> = {
  authentication:
    'check --sasl-mechanism and its credentials (--sasl-username with KDP_SASL_PASSWORD or --sasl-password-file, the token command or file, AWS credentials)',
  'untrusted-certificate': "give the CA that signed the brokers' certificate with --tls-ca",
  'tls-refused': 'a listener with mutual TLS needs a client certificate it trusts (--tls-cert, --tls-key)',
  unreachable: '',
}

/** Connects to the brokers and reads the cluster's metadata; throws a StartupError if it cannot. */
export async function checkBrokers(
  brokers: readonly string[],
  security: KafkaSecurity = {},
  timeoutMs = 20_000,
): Promise<void> {
  try {
    await probeBrokers({ brokers, clientId: 'kdp-preflight', ...security, logger: silentLogger }, timeoutMs)
  } catch (error) {
    if (!(error instanceof BrokerProbeError)) throw new StartupError(messageOf(error))
    if (error.problem === 'unreachable')
      throw new StartupError(`${error.message}${unreachableHint(error.message, security)}`)
    throw new StartupError(`${error.message}; ${hints[error.problem]}`, 3)
  }
}

/** What an unreachable cluster may really mean, when the connection settings suggest it. */
function unreachableHint(message: string, security: KafkaSecurity): string {
  // A secured listener closes a connection that does not speak its protocol.
  if (/Closed connection|disconnected before secure TLS/.test(message) && (!security.ssl || !security.sasl))
    return ' (does the listener need TLS (--tls) or SASL (--sasl-mechanism), or is it a plain one?)'
  // kafkajs reports an OAUTHBEARER token the brokers refuse only as an empty broker pool.
  if (/No brokers in the broker pool/.test(message) && security.sasl?.mechanism === 'oauthbearer')
    return ' (the brokers may have refused the OAUTHBEARER token: kafkajs does not tell; see their logs)'
  return ''
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
      sink.list(`kdp-startup-check-${randomBytes(4).toString('hex')}/`),
      options.timeoutMs ?? 20_000,
      'S3 listing',
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
