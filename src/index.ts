/**
 * kdp: a cluster of Node.js nodes with Kafka as the only coordinator. This entry point is the
 * coordination core; the archiving cluster is `kdp/archiver`.
 */
export {
  DistributedProcessing,
  type FailurePolicy,
  type HandleState,
  type ProcessingHandle,
  type StartOptions,
} from './coordination/distributedProcessing.js'
export type {
  Process,
  ProcessContext,
  ProcessFailure,
  ProcessSource,
  RunningProcess,
} from './coordination/process.js'
export type { GroupCounters } from './coordination/processGroup.js'
export { ProcessSet, partitionOfKey, stableHash } from './coordination/processSet.js'
export type { DistributedProcessingSettings } from './coordination/settings.js'
export { backoffDelay, type SuperviseOptions, supervise } from './coordination/supervision.js'
export { TopicMismatchError } from './coordination/technicalTopic.js'
export { CredentialsError, type KafkaSecurity, type SaslOptions } from './kafka/connection.js'
export { type MskTokenSigner, mskIamSasl } from './kafka/mskIam.js'
export { type FieldError, ValidationError } from './util/decode.js'
export { createLogger, type LogFields, type Logger, type LogLevel, silentLogger } from './util/logging.js'
export { sleep } from './util/sleep.js'
