import type { TopicConfig, TopicConfigFields } from './topicConfig.js'

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

/** One process instance as a node reports it. */
export interface ProcessStatus {
  readonly group: string
  readonly key: string
  readonly partition: number
  readonly fencingToken: number
  readonly state: 'starting' | 'running' | 'stopping'
  /** For an archiver: the revision of the topic config it runs with. */
  readonly revision?: number
}

/** What a node publishes about itself every few seconds. */
export interface NodeStatus {
  readonly nodeId: string
  readonly host: string
  readonly pid: number
  /** `http://host:port` of its HTTP API, or null if it serves none. */
  readonly httpAddress: string | null
  readonly startedAt: string
  readonly updatedAt: string
  readonly cpuPercent: number
  readonly rssBytes: number
  readonly heapUsedBytes: number
  /** Machine-wide network throughput seen by this node (from /proc/net/dev where available). */
  readonly networkBytesPerSec: { readonly received: number; readonly sent: number }
  readonly processes: readonly ProcessStatus[]
  /** Consumer lag (records) of the archivers this node runs. */
  readonly lag: number
  readonly warnings: readonly string[]
}

/** The cluster's nodes as read from the status topic. */
export interface StatusView {
  /** Every node with a status record; `lost` when it has been silent for more than 3 intervals. */
  nodes(): Array<NodeStatus & { readonly lost: boolean }>
}
