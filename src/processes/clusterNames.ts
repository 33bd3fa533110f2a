import { epochsTopicOf } from '../coordination/technicalTopic.js'
import { cutsTopicOf } from './archiver/cutLog.js'

/** Topic and group names of one kdp cluster. */
export function clusterNames(cluster: string) {
  const topics = {
    configs: `${cluster}-configs`,
    status: `${cluster}-status`,
    events: `${cluster}-events`,
    cuts: cutsTopicOf(cluster),
    technical: `${cluster}-processes`,
    commands: `${cluster}-commands`,
  }
  return {
    ...topics,
    masterGroup: `${cluster}-master`,
    scalerGroup: `${cluster}-scaler`,
    archiverGroup: `${cluster}-archivers`,
    /** kdp's own topics, never archived: the core's epochs topic too (the demo's master archived it). */
    internal: [...Object.values(topics), epochsTopicOf(topics.technical)],
  }
}

const configsSuffix = clusterNames('').configs

/**
 * The own topics of every kdp cluster in `topics` (this one's and any other's on the same Kafka),
 * found by name: a cluster `c` is there when its configs, status, events and technical topics
 * (`c-configs`, `c-status`, `c-events`, `c-processes`, which every cluster has from its first start)
 * all are. One user topic named like one of them (`orders-events`) is not taken for kdp's, unless a
 * user has that whole set of topics.
 */
export function kdpClusterTopics(topics: readonly string[]): Set<string> {
  const present = new Set(topics)
  const found = new Set<string>()
  for (const topic of topics) {
    if (!topic.endsWith(configsSuffix) || topic === configsSuffix) continue
    const names = clusterNames(topic.slice(0, -configsSuffix.length))
    if (![names.configs, names.status, names.events, names.technical].every((t) => present.has(t))) continue
    for (const own of names.internal) if (present.has(own)) found.add(own)
  }
  return found
}
