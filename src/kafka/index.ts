/**
 * The only folder that imports kafkajs. Everything else sees Kafka through the small interfaces of
 * `types.ts` and the connection options of `connection.ts`; replacing the client library means
 * changing this folder only.
 */
import type { KafkaConnectionOptions } from './connection.js'
import { KafkajsClient } from './kafkajsClient.js'
import type { KafkaClient } from './types.js'

export { CompactedView, type Decoded, jsonRecord } from './compactedView.js'
export {
  CredentialsError,
  type KafkaConnectionOptions,
  type KafkaSecurity,
  type SaslOptions,
} from './connection.js'
export { loadMskSigner, type MskTokenSigner, mskIamSasl, mskSignerPackage } from './mskIam.js'
export { BrokerProbeError, type BrokerProblem, probeBrokers } from './probe.js'
export type * from './types.js'

/** A client for every Kafka need of one node (or one component of it). Connects lazily. */
export function connectKafka(options: KafkaConnectionOptions): KafkaClient {
  return new KafkajsClient(options)
}
