/** kdp: a cluster of Node.js nodes with Kafka as the only coordinator. */

export {
  DistributedProcessing,
  type FailurePolicy,
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
export { ProcessSet, partitionOfKey, stableHash } from './coordination/processSet.js'
export type { DistributedProcessingSettings } from './coordination/settings.js'
export type { ConfigStore, NodeStatus, StatusView } from './coordination/state/stores.js'
export type { SinkSpec, TopicConfig, TopicConfigFields } from './coordination/state/topicConfig.js'
export { TopicMismatchError } from './coordination/technicalTopic.js'
export { type FieldError, ValidationError } from './decode.js'
export { createLogger, type Logger, type LogLevel, silentLogger } from './logging.js'
export {
  ArchiveMetrics,
  type ArchiverFactoryOptions,
  createArchiverFactory,
} from './processes/archiver/index.js'
export { type ArchiverNode, type ArchiverNodeOptions, startArchiverNode } from './processes/archiverNode.js'
export { backoffDelay, type SuperviseOptions, supervise } from './processes/supervision.js'
export * from './sinks/index.js'
export { sleep } from './sleep.js'
