import type { FastifyInstance } from 'fastify'
import * as t from 'io-ts'
import { PartitionLoad } from '../../processes/state/status.js'
import type { ConfigStore, ReportedNode, StatusView } from '../../processes/state/stores.js'
import { KafkaTopicName } from '../../processes/state/topicConfig.js'
import { described, NonNegativeInteger } from '../../util/codecs.js'
import { sendError } from '../errors.js'
import { topicNameErrors } from './topics.js'

/** Sums of the load signals over a set of topic-partitions. */
export const LagTotals = described(
  t.readonly(
    t.type({
      unreadLag: described(NonNegativeInteger, 'Records not read yet: what scaling decides from.'),
      bufferedRecords: described(NonNegativeInteger, 'Read but not stored yet (open files and uploads).'),
      bufferedBytes: NonNegativeInteger,
      committedLag: described(NonNegativeInteger, 'Records past the committed offsets.'),
      recordsInPerSec: t.number,
      bytesInPerSec: t.number,
      recordsOutPerSec: t.number,
      bytesOutPerSec: t.number,
    }),
  ),
  'Sums over the topic-partitions below, as their owners last reported them.',
)
export type LagTotals = t.TypeOf<typeof LagTotals>

/** One topic-partition of one sink, and the node that owns it. */
export const PartitionLag = described(
  t.readonly(
    t.intersection([
      PartitionLoad,
      t.type({
        nodeId: described(t.string, 'The node whose archiver owns it.'),
        lost: described(t.boolean, 'That node went silent: its figures are its last ones.'),
      }),
    ]),
  ),
  'The load of one topic-partition of one sink, and its owner.',
)
export type PartitionLag = t.TypeOf<typeof PartitionLag>

/** `GET /topics/:topic/lag`. */
export const TopicLag = described(
  t.readonly(
    t.type({
      topic: KafkaTopicName,
      total: described(LagTotals, 'Over every sink and partition (each sink reads the topic on its own).'),
      sinks: t.readonlyArray(t.readonly(t.intersection([t.type({ sink: t.string }), LagTotals]))),
      partitions: described(
        t.readonlyArray(PartitionLag),
        'Sorted by sink, then partition; a partition two nodes report (during a hand-over) once, from the node that still answers, else the latest report.',
      ),
    }),
  ),
  'The lag of one topic, per partition and in total, from every node’s status.',
)
export type TopicLag = t.TypeOf<typeof TopicLag>

const zero: LagTotals = {
  unreadLag: 0,
  bufferedRecords: 0,
  bufferedBytes: 0,
  committedLag: 0,
  recordsInPerSec: 0,
  bytesInPerSec: 0,
  recordsOutPerSec: 0,
  bytesOutPerSec: 0,
}

function add(sum: LagTotals, load: PartitionLoad): LagTotals {
  const round = (value: number) => Math.round(value * 10) / 10
  return {
    unreadLag: sum.unreadLag + load.unreadLag,
    bufferedRecords: sum.bufferedRecords + load.bufferedRecords,
    bufferedBytes: sum.bufferedBytes + load.bufferedBytes,
    committedLag: sum.committedLag + load.committedLag,
    recordsInPerSec: round(sum.recordsInPerSec + load.recordsInPerSec),
    bytesInPerSec: round(sum.bytesInPerSec + load.bytesInPerSec),
    recordsOutPerSec: round(sum.recordsOutPerSec + load.recordsOutPerSec),
    bytesOutPerSec: round(sum.bytesOutPerSec + load.bytesOutPerSec),
  }
}

/** Whether `a` is the better report of one partition than `b`: a live node first, then the latest. */
function better(a: { node: ReportedNode }, b: { node: ReportedNode }): boolean {
  if (a.node.lost !== b.node.lost) return !a.node.lost
  return a.node.updatedAt > b.node.updatedAt
}

/** The owned partitions of `topic` over every node's status, one report per (sink, partition). */
export function partitionLags(nodes: readonly ReportedNode[], topic: string): PartitionLag[] {
  const best = new Map<string, { node: ReportedNode; load: PartitionLoad }>()
  for (const node of nodes) {
    for (const load of node.partitions) {
      if (load.topic !== topic) continue
      const key = `${load.sink}\u0000${load.partition}`
      const other = best.get(key)
      if (!other || better({ node }, other)) best.set(key, { node, load })
    }
  }
  return [...best.values()]
    .map(({ node, load }) => ({ ...load, nodeId: node.nodeId, lost: node.lost }))
    .sort((a, b) => (a.sink !== b.sink ? (a.sink < b.sink ? -1 : 1) : a.partition - b.partition))
}

/** The lag of `topic` from every node's status; undefined when no config and no node knows it. */
export function topicLag(
  nodes: readonly ReportedNode[],
  topic: string,
  configured: boolean,
): TopicLag | undefined {
  const partitions = partitionLags(nodes, topic)
  if (!configured && partitions.length === 0) return undefined
  const bySink = new Map<string, LagTotals>()
  let total = zero
  for (const load of partitions) {
    total = add(total, load)
    bySink.set(load.sink, add(bySink.get(load.sink) ?? zero, load))
  }
  return { topic, total, sinks: [...bySink].map(([sink, sums]) => ({ sink, ...sums })), partitions }
}

export function registerLagRoutes(
  app: FastifyInstance,
  options: { readonly configs: ConfigStore; readonly status: StatusView },
): void {
  app.get<{ Params: { topic: string } }>('/topics/:topic/lag', async (request, reply) => {
    const { topic } = request.params
    const fields = topicNameErrors(topic)
    if (fields.length > 0)
      return sendError(reply, 400, {
        error: 'invalid_topic',
        message: 'invalid topic name in the URL',
        fields,
      })
    const lag = topicLag(options.status.nodes(), topic, options.configs.get(topic) !== undefined)
    return (
      lag ??
      sendError(reply, 404, {
        error: 'not_found',
        message: `topic "${topic}" has no archive config and no node archives it`,
      })
    )
  })
}
