import * as t from 'io-ts'
import { FeedEvent } from '../../processes/state/eventFeed.js'
import { ReportedNode } from '../../processes/state/status.js'
import { TopicConfig } from '../../processes/state/topicConfig.js'
import { described, PositiveInteger } from '../../util/codecs.js'
import { LagTotals } from '../routes/lag.js'

/**
 * What `GET /stream` pushes (server-sent events), defined once: the types the hub writes and the
 * schemas the OpenAPI document shows for each event's `data`.
 */

/** One point of the ticker: every topic's sums at one moment. */
export const HistoryPoint = described(
  t.readonly(
    t.type({
      at: described(t.string, 'When the answering node took it (ISO 8601).'),
      topics: described(
        t.record(t.string, LagTotals),
        'Per topic: the sums over its partitions, as their owners last reported them.',
      ),
    }),
  ),
  'The cluster’s throughput and lag per topic at one moment.',
)
export type HistoryPoint = t.TypeOf<typeof HistoryPoint>

/** The first event of every stream: the whole picture, after which only changes come. */
export const StreamSnapshot = described(
  t.readonly(
    t.type({
      nodeId: described(t.string, 'The node that serves this stream.'),
      cluster: described(
        t.string,
        'The cluster name: process groups are `<cluster>-master`, `-archivers`, `-scaler`.',
      ),
      statusIntervalMs: described(PositiveInteger, 'How often nodes report, and the ticker moves.'),
      writable: described(t.boolean, 'Whether this node accepts writes (it has a token configured).'),
      nodes: t.readonlyArray(ReportedNode),
      configs: t.readonlyArray(TopicConfig),
      events: described(t.readonlyArray(FeedEvent), 'The latest events, oldest first.'),
      history: described(t.readonlyArray(HistoryPoint), 'The last few minutes of the ticker, oldest first.'),
    }),
  ),
  'The `snapshot` event: sent first on every connection.',
)
export type StreamSnapshot = t.TypeOf<typeof StreamSnapshot>

/** `config`: a topic config was stored (config) or deleted (null). */
export const ConfigChange = described(
  t.readonly(t.type({ topic: t.string, config: t.union([TopicConfig, t.null]) })),
  'The `config` event: a topic config was stored, or deleted (`null`).',
)
export type ConfigChange = t.TypeOf<typeof ConfigChange>

/** `node-removed`: a node left (its status record was tombstoned). */
export const NodeRemoved = described(
  t.readonly(t.type({ nodeId: t.string })),
  'The `node-removed` event: a node left the cluster.',
)
export type NodeRemoved = t.TypeOf<typeof NodeRemoved>

/** The events of the stream and the shape of each one's data. */
export interface StreamEvents {
  snapshot: StreamSnapshot
  node: ReportedNode
  'node-removed': NodeRemoved
  config: ConfigChange
  event: FeedEvent
  tick: HistoryPoint
}
