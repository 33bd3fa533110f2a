import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { CompactedView, type Decoded, type KafkaClient, type LogRecord } from '../../kafka/index.js'
import { described, Integer, NonNegativeInteger, PositiveInteger, Timestamp } from '../../util/codecs.js'
import { describeFieldErrors, fieldErrors, stripUnknown } from '../../util/decode.js'
import type { Logger } from '../../util/logging.js'

/**
 * The scaler's compacted topic, `<cluster>-commands` (one partition: one order of writes). It holds
 * what the singleton scaler tells the other nodes and what every node's API serves:
 * - `drain:<nodeId>`: drain that node (it finishes its uploads and hands its archivers over, then
 *   reports `drained` in its status); a tombstone cancels it, or clears it once the node is gone;
 * - `placement:<topic>`: the archiver slots of a topic whose parallelism is `auto`;
 * - `decision`: the scaler's latest decision (`GET /scaling` on any node).
 */

export const commandsTopicSettings = {
  partitions: 1,
  config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' },
}

export const DrainCommand = described(
  t.readonly(
    t.type({
      version: t.literal(1),
      nodeId: described(t.string, 'The node to drain.'),
      requestId: described(t.string, 'Names this drain; the node reports it back when drained.'),
      instanceId: described(t.union([t.string, t.null]), 'Its EC2 instance, terminated once it is drained.'),
      reason: t.string,
      requestedAt: Timestamp,
      fencingToken: described(Integer, 'Of the scaler that asked (grows with every new scaler).'),
    }),
  ),
  'A request to one node to drain.',
)
export type DrainCommand = t.TypeOf<typeof DrainCommand>

/** Slot indices of one topic's archivers, per sink: archiver keys `topic|sink|slot`. */
export const TopicPlacement = described(
  t.readonly(
    t.type({
      version: t.literal(1),
      topic: t.string,
      instances: described(PositiveInteger, 'Archiver instances per sink.'),
      slots: described(
        t.readonly(t.record(t.string, t.readonlyArray(NonNegativeInteger))),
        'Per sink id, the slot of each instance: the archiver key is `topic|sink|slot`, and the slot is ' +
          'chosen so that the key hashes onto a partition of a node without another instance of it.',
      ),
      reason: t.string,
      updatedAt: Timestamp,
    }),
  ),
  'Where the archivers of a topic with parallelism `auto` run.',
)
export type TopicPlacement = t.TypeOf<typeof TopicPlacement>

/** What `GET /scaling` answers: the scaler's latest decision, read by every node. */
export const ScalingRecommendation = described(
  t.readonly(
    t.type({
      recommendedReplicas: described(
        NonNegativeInteger,
        'The number of nodes the cluster should have (KEDA metrics-api: `valueLocation: recommendedReplicas`).',
      ),
      currentReplicas: described(
        NonNegativeInteger,
        'Nodes archiving now (drained and lost ones not counted).',
      ),
      action: t.keyof({ out: null, in: null, hold: null }),
      reason: described(t.string, 'Why, in words.'),
      mode: t.keyof({ auto: null, recommend: null, off: null }),
      actsOnAws: described(t.boolean, 'Whether the scaler changes an Auto Scaling group itself.'),
      minReplicas: NonNegativeInteger,
      maxReplicas: NonNegativeInteger,
      warnings: t.readonlyArray(t.string),
      decidedAt: described(t.union([Timestamp, t.null]), 'null: no scaler has decided yet.'),
      scalerNode: described(t.union([t.string, t.null]), 'The node whose scaler decided.'),
    }),
  ),
  'The scaler’s recommendation.',
)
export type ScalingRecommendation = t.TypeOf<typeof ScalingRecommendation>

/** A stored decision: the recommendation plus the record's schema version. */
const StoredDecision = t.intersection([t.type({ version: t.literal(1) }), ScalingRecommendation])

const drainPrefix = 'drain:'
const placementPrefix = 'placement:'
const decisionKey = 'decision'

type Entry =
  | { kind: 'drain'; value: DrainCommand }
  | { kind: 'placement'; value: TopicPlacement }
  | { kind: 'decision'; value: ScalingRecommendation }

function decodeAs<A>(
  codec: t.Type<A, unknown, unknown>,
  value: unknown,
): { ok: true; value: A } | { ok: false; reason: string } {
  const result = codec.decode(value)
  if (isLeft(result)) {
    return {
      ok: false,
      reason: describeFieldErrors(fieldErrors(result.left)),
    }
  }
  return { ok: true, value: stripUnknown(codec, result.right) }
}

function decodeEntry(record: LogRecord): Decoded<Entry> {
  if (record.value === null) return { kind: 'delete' }
  let parsed: unknown
  try {
    parsed = JSON.parse(record.value.toString('utf8'))
  } catch (error) {
    return { kind: 'skip', reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
  }
  const key = record.key ?? ''
  const wrap = <K extends Entry['kind'], A>(
    kind: K,
    decoded: { ok: true; value: A } | { ok: false; reason: string },
  ): Decoded<Entry> =>
    decoded.ok
      ? { kind: 'value', value: { kind, value: decoded.value } as Entry }
      : { kind: 'skip', reason: decoded.reason }
  if (key.startsWith(drainPrefix)) return wrap('drain', decodeAs(DrainCommand, parsed))
  if (key.startsWith(placementPrefix)) return wrap('placement', decodeAs(TopicPlacement, parsed))
  if (key === decisionKey) {
    const decoded = decodeAs(StoredDecision, parsed)
    if (!decoded.ok) return { kind: 'skip', reason: decoded.reason }
    const { version: _version, ...recommendation } = decoded.value
    return { kind: 'value', value: { kind: 'decision', value: recommendation } }
  }
  // A key a newer version writes: not ours to judge.
  return { kind: 'ignore' }
}

/** Every node's view of the commands topic, and the scaler's writes to it (read back before resolving). */
export class CommandsStore {
  readonly #view: CompactedView<Entry>

  constructor(
    private readonly client: KafkaClient,
    readonly topic: string,
    logger: Logger,
  ) {
    this.#view = new CompactedView(client, topic, decodeEntry, logger)
  }

  async start(): Promise<void> {
    await this.client.ensureTopic({ topic: this.topic, ...commandsTopicSettings })
    await this.#view.start()
  }

  stop(): Promise<void> {
    return this.#view.stop()
  }

  drainOf(nodeId: string): DrainCommand | undefined {
    const entry = this.#view.get(drainPrefix + nodeId)
    return entry?.kind === 'drain' ? entry.value : undefined
  }

  drains(): DrainCommand[] {
    return [...this.#view.entries().values()].flatMap((e) => (e.kind === 'drain' ? [e.value] : []))
  }

  placementOf(topic: string): TopicPlacement | undefined {
    const entry = this.#view.get(placementPrefix + topic)
    return entry?.kind === 'placement' ? entry.value : undefined
  }

  placements(): TopicPlacement[] {
    return [...this.#view.entries().values()].flatMap((e) => (e.kind === 'placement' ? [e.value] : []))
  }

  decision(): ScalingRecommendation | undefined {
    const entry = this.#view.get(decisionKey)
    return entry?.kind === 'decision' ? entry.value : undefined
  }

  putDrain(command: DrainCommand): Promise<void> {
    return this.#write(drainPrefix + command.nodeId, command)
  }

  deleteDrain(nodeId: string): Promise<void> {
    return this.#write(drainPrefix + nodeId, null)
  }

  putPlacement(placement: TopicPlacement): Promise<void> {
    return this.#write(placementPrefix + placement.topic, placement)
  }

  deletePlacement(topic: string): Promise<void> {
    return this.#write(placementPrefix + topic, null)
  }

  putDecision(decision: ScalingRecommendation): Promise<void> {
    return this.#write(decisionKey, { version: 1, ...decision })
  }

  /** Calls `listener` after every change, with what changed. */
  subscribe(listener: (change: { kind: Entry['kind'] | 'unknown'; key: string }) => void): () => void {
    return this.#view.subscribe((key, value) => {
      const kind =
        value?.kind ??
        (key.startsWith(drainPrefix)
          ? 'drain'
          : key.startsWith(placementPrefix)
            ? 'placement'
            : key === decisionKey
              ? 'decision'
              : 'unknown')
      listener({ kind, key })
    })
  }

  async #write(key: string, value: unknown): Promise<void> {
    const { partition, offset } = await this.client.produce(this.topic, {
      key,
      value: value === null ? null : JSON.stringify(value),
    })
    await this.#view.waitFor(partition, offset)
  }
}
