import * as t from 'io-ts'
import { described, Integer, NonNegativeInteger, PositiveInteger } from '../../util/codecs.js'

/**
 * What nodes report about themselves, defined once: the decoder of the status topic's records, their
 * TypeScript types and the JSON Schemas of `GET /nodes` (and, through them, `GET /processes`).
 */

/** Which process instance, and how far it is in its life: what both status and placements show. */
export const ProcessInstance = t.type({
  group: described(t.string, 'The process group (`kdp-archivers`, `kdp-master`, ...).'),
  key: described(t.string, 'The process key; for an archiver `topic|sink|index`.'),
  partition: described(NonNegativeInteger, 'The partition of the technical topic it belongs to.'),
  fencingToken: described(Integer, 'Grows with every new owner of its slice.'),
  state: t.keyof({ starting: null, running: null, stopping: null }),
})

/** One process instance as a node reports it. */
export const ProcessStatus = described(
  t.readonly(
    t.intersection([
      ProcessInstance,
      t.partial({
        revision: described(
          PositiveInteger,
          'For an archiver: the revision of the topic config it runs with.',
        ),
      }),
    ]),
  ),
  'One process instance on a node.',
)
export type ProcessStatus = t.TypeOf<typeof ProcessStatus>

/** What a node publishes about itself every few seconds. */
export const NodeStatus = t.readonly(
  t.type({
    nodeId: t.string,
    host: t.string,
    pid: NonNegativeInteger,
    httpAddress: described(
      t.union([t.string, t.null]),
      '`http://host:port` of its HTTP API, or null if it serves none.',
    ),
    // Plain strings, not Timestamp: the status decoder has always taken any string here, and a
    // stricter one would drop an odd node from the list rather than show it.
    startedAt: described(t.string, 'When the node started (ISO 8601, as `toISOString` writes it).'),
    updatedAt: described(t.string, 'When it published this status (ISO 8601).'),
    cpuPercent: described(t.number, 'CPU use of the node process since its last status (100: one core).'),
    rssBytes: NonNegativeInteger,
    heapUsedBytes: NonNegativeInteger,
    networkBytesPerSec: described(
      t.readonly(t.type({ received: t.number, sent: t.number })),
      'Machine-wide network throughput seen by this node (from /proc/net/dev where available; else zeros).',
    ),
    processes: t.readonlyArray(ProcessStatus),
    lag: described(NonNegativeInteger, 'Consumer lag (records) of the archivers this node runs.'),
    warnings: t.readonlyArray(t.string),
  }),
)
export type NodeStatus = t.TypeOf<typeof NodeStatus>

/** A node's status as `GET /nodes` lists it: what it published, and whether it went silent. */
export const ReportedNode = described(
  t.intersection([
    NodeStatus,
    t.type({
      lost: described(t.boolean, 'Silent for more than 3 status intervals, as timed by the answering node.'),
    }),
  ]),
  'A node of the cluster, as it last reported.',
)
export type ReportedNode = t.TypeOf<typeof ReportedNode>
