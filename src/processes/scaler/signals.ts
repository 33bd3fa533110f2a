import type { KafkaClient } from '../../kafka/index.js'
import { archiveGroupId } from '../archiver/index.js'
import type { ReportedNode } from '../state/status.js'
import type { TopicConfig } from '../state/topicConfig.js'
import type { Sample, StreamSample } from './decision.js'

/**
 * What the scaler measures each interval, per topic × sink:
 * - the rate in, from the growth of the topic's end offsets (one admin call per topic);
 * - the unread lag and the read rate, from the nodes' status records (`partitions`: what each node's
 *   archivers report for the partitions they own), when they cover every partition of the topic;
 * - otherwise (nodes of a version without those signals, or a partition between owners) the group's
 *   committed lag, and the read rate derived from it (rate in − growth of the lag). Committed lag also
 *   counts records that wait in open files, so it over-states what more nodes could read: the
 *   decision needs it to grow, or to stay above `targetLag` without draining, before it acts.
 */

/** A node that archives: not lost, and neither draining nor drained. */
export function isArchiving(node: ReportedNode): boolean {
  return !node.lost && node.drain === null
}

export interface TopicMeasure {
  readonly partitions: number
  /** Sum of the end offsets of its partitions. */
  readonly end: number
}

/** The previous round's measures, to turn offsets and lags into rates. */
export interface Previous {
  readonly at: number
  readonly topics: ReadonlyMap<string, TopicMeasure>
  readonly lags: ReadonlyMap<string, number>
}

export interface Measured {
  readonly sample: Sample
  readonly topics: ReadonlyMap<string, TopicMeasure>
  readonly lags: ReadonlyMap<string, number>
  /** Streams whose lag came from committed offsets (for the reason and the docs). */
  readonly committedLagStreams: readonly string[]
}

/** Bounds one Kafka call (the scaler must settle within maxStop; a broker outage must not stall a round). */
export type Bounded = <T>(work: Promise<T>) => Promise<T>

/** Measures every configured, unpaused topic × sink. `now` is monotonic ms. */
export async function measure(
  client: Pick<KafkaClient, 'partitionCount' | 'endOffsets' | 'groupLag'>,
  cluster: string,
  configs: readonly TopicConfig[],
  nodes: readonly ReportedNode[],
  previous: Previous | undefined,
  now: number,
  bounded: Bounded,
): Promise<Measured> {
  const archiving = nodes.filter(isArchiving)
  const topics = new Map<string, TopicMeasure>()
  const lags = new Map<string, number>()
  const streams: StreamSample[] = []
  const committedLagStreams: string[] = []
  const elapsedS = previous === undefined ? 0 : Math.max(0.001, (now - previous.at) / 1000)
  // The freshest report of each topic × sink × partition (two nodes may report one around a rebalance).
  const reports = new Map<string, { updatedAt: string; lag: number; readRate: number }>()
  for (const node of nodes) {
    if (node.lost) continue
    for (const p of node.partitions) {
      const key = `${p.topic}|${p.sink}|${p.partition}`
      const seen = reports.get(key)
      if (seen === undefined || seen.updatedAt < node.updatedAt)
        reports.set(key, { updatedAt: node.updatedAt, lag: p.unreadLag, readRate: p.recordsInPerSec })
    }
  }
  for (const config of configs) {
    if (config.paused || config.sinks.length === 0) continue
    const partitions = (await bounded(client.partitionCount(config.topic))) ?? 0
    if (partitions === 0) continue
    let end = 0
    for (const offset of (await bounded(client.endOffsets(config.topic))).values()) end += offset
    topics.set(config.topic, { partitions, end })
    const before = previous?.topics.get(config.topic)
    const inRate =
      before === undefined || previous === undefined ? 0 : Math.max(0, end - before.end) / elapsedS
    for (const sink of config.sinks) {
      const stream = `${config.topic}|${sink.id}`
      let lag = 0
      let readRate = 0
      let covered = 0
      for (let p = 0; p < partitions; p++) {
        const report = reports.get(`${stream}|${p}`)
        if (report === undefined) continue
        covered++
        lag += report.lag
        readRate += report.readRate
      }
      let outRate = readRate
      if (covered < partitions) {
        lag = 0
        const committed = await bounded(
          client.groupLag(archiveGroupId(cluster, config.topic, sink.id), config.topic),
        )
        for (const value of committed.values()) lag += value
        const lagBefore = previous?.lags.get(stream)
        outRate = lagBefore === undefined ? inRate : Math.max(0, inRate - (lag - lagBefore) / elapsedS)
        committedLagStreams.push(stream)
      }
      lags.set(stream, lag)
      streams.push({
        topic: config.topic,
        sink: sink.id,
        lag,
        inRate,
        outRate,
        maxInstances: config.parallelism === 'auto' ? partitions : config.parallelism,
      })
    }
  }
  const meanCpuPercent =
    archiving.length === 0 ? 0 : archiving.reduce((sum, n) => sum + n.cpuPercent, 0) / archiving.length
  return {
    sample: { at: now, streams, nodes: archiving.length, meanCpuPercent },
    topics,
    lags,
    committedLagStreams,
  }
}
