import { epochsTopicOf } from '../coordination/technicalTopic.js'
import { cutsTopicOf } from './archiver/cutLog.js'

/** Topic and group names of one kdp cluster. */
export function clusterNames(cluster: string) {
  return {
    configs: `${cluster}-configs`,
    status: `${cluster}-status`,
    events: `${cluster}-events`,
    cuts: cutsTopicOf(cluster),
    technical: `${cluster}-processes`,
    commands: `${cluster}-commands`,
    masterGroup: `${cluster}-master`,
    scalerGroup: `${cluster}-scaler`,
    archiverGroup: `${cluster}-archivers`,
    /** kdp's own topics, never archived: the core's epochs topic too (the demo's master archived it). */
    internal: [
      `${cluster}-configs`,
      `${cluster}-status`,
      `${cluster}-events`,
      `${cluster}-processes`,
      epochsTopicOf(`${cluster}-processes`),
      cutsTopicOf(cluster),
      `${cluster}-commands`,
    ],
  }
}

/** The topics every kdp cluster has from its first start: together they name one. */
const markerSuffixes = ['-configs', '-status', '-events', '-processes'] as const

/**
 * The own topics of every kdp cluster in `topics` (this one's and any other's on the same Kafka),
 * found by name: a cluster `c` is there when `c-configs`, `c-status`, `c-events` and `c-processes`
 * all are. One user topic named like one of them (`orders-events`) is not taken for kdp's, unless a
 * user has that whole set of topics.
 */
export function kdpClusterTopics(topics: readonly string[]): Set<string> {
  const present = new Set(topics)
  const found = new Set<string>()
  for (const topic of topics) {
    if (!topic.endsWith('-configs')) continue
    const cluster = topic.slice(0, -'-configs'.length)
    if (cluster === '' || !markerSuffixes.every((suffix) => present.has(`${cluster}${suffix}`))) continue
    for (const own of clusterNames(cluster).internal) if (present.has(own)) found.add(own)
  }
  return found
}
