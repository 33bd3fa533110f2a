import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { Logger } from '../util/logging.js'

/** SASL authentication. Passwords and tokens are never logged. */
export type SaslOptions =
  | {
      readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
      readonly username: string
      readonly password: string
    }
  | {
      readonly mechanism: 'oauthbearer'
      /** Called whenever a (new) token is needed; throws a CredentialsError when none can be had. */
      readonly token: () => Promise<string>
    }

/**
 * No credentials could be had (a token command failed, the AWS signer found no credentials): an
 * authentication problem on this side, reported as such rather than as an unreachable broker.
 */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError'
}

/** How a node reaches a secured cluster: TLS, SASL and timeouts. Shared by every Kafka connection of a node. */
export interface KafkaSecurity {
  /** `true` for TLS with the system's CAs, or Node's TLS options (ca, cert, key, servername...). */
  readonly ssl?: boolean | TlsOptions
  readonly sasl?: SaslOptions
  /** Time to open a connection to a broker. Default 1 000 ms (kafkajs). */
  readonly connectionTimeoutMs?: number
  /** Time a request may wait for its answer. Default 30 000 ms (kafkajs). */
  readonly requestTimeoutMs?: number
}

/** Everything a Kafka connection needs. */
export interface KafkaConnectionOptions extends KafkaSecurity {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[]
  readonly clientId: string
  readonly logger: Logger
}
