import type { ReportedNode } from './status.js'
import type { TopicConfig, TopicConfigFields } from './topicConfig.js'

// The status shapes are codecs, in status.ts; their types are re-exported where they always were.
export type { NodeStatus, ProcessStatus, ReportedNode } from './status.js'

/** Per-topic archive configuration, kept in a compacted single-partition topic. */
export interface ConfigStore {
  list(): TopicConfig[]
  get(topic: string): TopicConfig | undefined
  /** Creates or replaces a topic's config; resolves once this node reads its own write back. */
  put(topic: string, fields: TopicConfigFields): Promise<TopicConfig>
  /** Rewrites an existing config (undefined if the topic has none); resolves after reading it back. */
  update(topic: string, change: (current: TopicConfig) => TopicConfigFields): Promise<TopicConfig | undefined>
  /** Tombstones a topic's config; false if it had none. */
  delete(topic: string): Promise<boolean>
  /** Called for every applied change (config undefined: deleted). */
  subscribe(listener: (topic: string, config: TopicConfig | undefined) => void): () => void
}

/** The cluster's nodes as read from the status topic. */
export interface StatusView {
  /** Every node with a status record; `lost` when it has been silent for more than 3 intervals. */
  nodes(): ReportedNode[]
  /**
   * Called with a node's id whenever its status record changes or goes (optional: a view that
   * cannot tell is watched on a timer only); returns the unsubscribe function.
   */
  subscribe?(listener: (nodeId: string) => void): () => void
}
