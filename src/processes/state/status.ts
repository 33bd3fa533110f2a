import * as t from 'io-ts'
import { described, Integer, NonNegativeInteger, PositiveInteger, withDefault } from '../../util/codecs.js'

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

/**
 * The load of one topic-partition that an archiver on this node owns: what the dashboard draws and
 * what the scaler decides from. Scaling uses `unreadLag` only, never records that merely wait in an
 * open file (those are `buffered*`).
 */
export const PartitionLoad = described(
  t.readonly(
    t.type({
      topic: t.string,
      sink: described(t.string, 'The sink id of the archiver.'),
      partition: NonNegativeInteger,
      unreadLag: described(NonNegativeInteger, 'Records not read yet: log end offset − read position.'),
      bufferedRecords: described(NonNegativeInteger, 'Read but not stored yet (open files and uploads).'),
      bufferedBytes: NonNegativeInteger,
      committedLag: described(NonNegativeInteger, 'Log end offset − committed offset.'),
      recordsInPerSec: described(t.number, 'Records read per second over the last status interval.'),
      bytesInPerSec: t.number,
      recordsOutPerSec: described(t.number, 'Records stored per second over the last status interval.'),
      bytesOutPerSec: t.number,
      uploadLatencyMs: described(
        t.union([t.number, t.null]),
        'Median upload time over the last status interval; null when nothing was uploaded.',
      ),
    }),
  ),
  'The load of one topic-partition an archiver of this node owns.',
)
export type PartitionLoad = t.TypeOf<typeof PartitionLoad>

/** An archiver that stopped by itself and waits for an operator (see `GET /topics`). */
export const StoppedArchiver = described(
  t.readonly(
    t.type({
      topic: t.string,
      sink: described(t.string, 'The sink id.'),
      reason: described(
        t.keyof({ 'sink-error': null, 'conflicting-object': null, 'bad-record': null, unsupported: null }),
        '`sink-error`: the sink refused in a way retrying cannot fix (access denied, no such bucket); ' +
          '`conflicting-object`: another cut’s object is under one of its keys; `bad-record`: policy ' +
          '`fail`; `unsupported`: this node cannot write the config (zstd on an older Node).',
      ),
      error: t.string,
      since: described(t.string, 'When it stopped (ISO 8601).'),
    }),
  ),
  'An archiver that stopped by itself: it stays stopped until its config changes or the topic is restarted.',
)
export type StoppedArchiver = t.TypeOf<typeof StoppedArchiver>
/** Where a node is in a drain the scaler asked for (see src/processes/scaler/README.md). */
export const DrainStatus = described(
  t.readonly(
    t.type({
      requestId: described(t.string, 'The drain command it answers.'),
      state: described(
        t.keyof({ draining: null, drained: null }),
        '`draining`: finishing its uploads and handing its archivers over; `drained`: it runs none and ' +
          'may be terminated.',
      ),
      since: described(t.string, 'When it entered this state (ISO 8601).'),
      reReadRecords: described(
        t.union([NonNegativeInteger, t.null]),
        'Records its archivers had read but not stored (files not cut yet): the next owners read them ' +
          'again. null while draining.',
      ),
    }),
  ),
  'A drain in progress or done.',
)
export type DrainStatus = t.TypeOf<typeof DrainStatus>

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
    // Defaults, so that a node of the previous version still decodes during a rolling upgrade.
    eventLoopDelayMs: withDefault(
      described(t.number, 'p99 event-loop delay over the last status interval (ms).'),
      0,
    ),
    partitions: withDefault(t.readonlyArray(PartitionLoad), []),
    stoppedArchivers: withDefault(
      described(t.readonlyArray(StoppedArchiver), 'Archivers of this node that stopped by themselves.'),
      [],
    ),
    instanceId: withDefault(
      described(
        t.union([t.string, t.null]),
        'Its EC2 instance (`--instance-id`, `KDP_INSTANCE_ID` or IMDSv2), which the scaler terminates ' +
          'after draining it; null: none known.',
      ),
      null,
    ),
    drain: withDefault(described(t.union([DrainStatus, t.null]), 'null: not draining.'), null),
    assignedPartitions: withDefault(
      described(
        t.readonly(t.record(t.string, t.readonlyArray(NonNegativeInteger))),
        'Partitions of the technical topic assigned to this node, per process group: where the scaler ' +
          'places archivers.',
      ),
      {},
    ),
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
