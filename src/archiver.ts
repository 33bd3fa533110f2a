/**
 * kdp/archiver: the archiving cluster (kdp-archiver as a library). Kept apart from the core entry
 * point so that `import { DistributedProcessing } from 'kdp'` loads no HTTP server, stores or sinks.
 */

export {
  ArchiveMetrics,
  type ArchiverFactoryOptions,
  archiveGroupId,
  createArchiverFactory,
} from './processes/archiver/index.js'
export { type ArchiverNode, type ArchiverNodeOptions, startArchiverNode } from './processes/archiverNode.js'
export type { ArchiverFactory } from './processes/archiverSet.js'
export { clusterNames } from './processes/clusterNames.js'
export type { ConfigStore, NodeStatus, ProcessStatus, StatusView } from './processes/state/stores.js'
export type { SinkSpec, TopicConfig, TopicConfigFields } from './processes/state/topicConfig.js'
export { decodeConfigFields } from './processes/state/topicConfig.js'
export * from './sinks/index.js'
