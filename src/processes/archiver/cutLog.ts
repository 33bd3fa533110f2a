import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { monotonicMs } from '../../coordination/lease.js'
import { CompactedView, jsonRecord, type KafkaClient } from '../../kafka/index.js'
import { NonNegativeInteger, PositiveInteger } from '../../util/codecs.js'
import { fieldErrors } from '../../util/decode.js'
import type { Logger } from '../../util/logging.js'
import { SharedPromise } from '../../util/sharedPromise.js'
import { TopicConfigFields } from '../state/topicConfig.js'

/**
 * The cuts log: before the first file of a cut is uploaded, the cut (partition, first and last
 * offset, config revision and the file layout it was cut with) is written to a compacted topic,
 * `<cluster>-cuts`. Whoever reads the partition next (this node after a rebalance, another after a
 * crash) cuts exactly there again, with that layout, whatever made the first cut: a record count, a
 * wall-clock age, an idle partition, the memory bound. So every object is written by one cut only,
 * and with conditional writes a second attempt finds its own earlier upload.
 *
 * One record per (consumer group, partition), keyed `<group>|<partition>`, holding every cut that is
 * not known to be committed: compaction keeps the log as small as the partitions archived.
 */

const fields = TopicConfigFields.props

/** What decides the names and bytes of a cut's files (the rest of the config only decides where to cut). */
export const FileLayout = t.type({
  pathTemplate: fields.pathTemplate,
  time: fields.time,
  format: fields.format,
  compression: fields.compression,
  sortBy: fields.sortBy,
  // Defaulted: a cut recorded before Parquet existed decodes with the default (no schema).
  parquet: fields.parquet,
})
export type FileLayout = t.TypeOf<typeof FileLayout>

/** The layout part of a config. */
export function layoutOf(config: FileLayout): FileLayout {
  const { pathTemplate, time, format, compression, sortBy, parquet } = config
  return { pathTemplate, time, format, compression, sortBy, parquet }
}

/** One cut: records `first..last` of a partition went into files; the commit after it is `last + 1`. */
export const Cut = t.type({
  first: NonNegativeInteger,
  last: NonNegativeInteger,
  /** The rule that made it (`maxRecords`, `idle`, `memory`...), for operators. */
  reason: t.string,
  revision: PositiveInteger,
  layout: FileLayout,
})
export type Cut = t.TypeOf<typeof Cut>

const CutRecord = t.type({
  version: t.literal(1),
  group: t.string,
  topic: t.string,
  partition: NonNegativeInteger,
  cuts: t.readonlyArray(Cut),
})
type CutRecord = t.TypeOf<typeof CutRecord>

/** Settings of the cuts topic: one partition, compacted, small segments so that compaction runs. */
export const cutsTopicSettings = {
  partitions: 1,
  config: {
    'cleanup.policy': 'compact',
    'min.compaction.lag.ms': '0',
    'segment.ms': String(15 * 60 * 1000),
    'segment.bytes': String(16 * 1024 * 1024),
  },
}

/** The cuts topic of a kdp cluster. */
export function cutsTopicOf(cluster: string): string {
  return `${cluster}-cuts`
}

function keyOf(group: string, partition: number): string {
  return `${group}|${partition}`
}

/** The cuts log of one node's archivers (see above): written before uploads, read at each assignment. */
export class CutLog {
  readonly #view: CompactedView<CutRecord>
  readonly #started: SharedPromise<void>
  #running = false
  /** A catch-up under way: the partitions of one assignment share it. */
  #catchingUp: { readonly startedAt: number; readonly run: Promise<void> } | undefined

  constructor(
    private readonly client: KafkaClient,
    readonly topic: string,
    logger: Logger,
  ) {
    this.#view = new CompactedView(
      client,
      topic,
      jsonRecord((value) => {
        const decoded = CutRecord.decode(value)
        return isLeft(decoded)
          ? {
              ok: false,
              reason: fieldErrors(decoded.left)
                .map((e) => `${e.path}: ${e.message}`)
                .join('; '),
            }
          : { ok: true, value: decoded.right }
      }),
      logger,
    )
    this.#started = new SharedPromise(async () => {
      await client.ensureTopic({ topic, ...cutsTopicSettings })
      await this.#view.start()
      this.#running = true
    })
  }

  /**
   * Writes the partition's cuts not known to be committed (acks=all). Resolves once the broker has
   * them: only then may the first file of the newest one be uploaded.
   */
  async record(group: string, topic: string, partition: number, cuts: readonly Cut[]): Promise<void> {
    await this.#started.get()
    const record: CutRecord = { version: 1, group, topic, partition, cuts }
    await this.client.produce(this.topic, { key: keyOf(group, partition), value: JSON.stringify(record) })
  }

  /**
   * The cuts recorded for a partition, oldest first, once this node has read the log to the end it
   * had at some point after `since` (monotonic ms: when the partition was assigned), so that every
   * cut its previous owner recorded before it stopped is seen.
   */
  async cuts(group: string, partition: number, since: number): Promise<readonly Cut[]> {
    await this.#started.get()
    await this.#caughtUp(since)
    return [...(this.#view.get(keyOf(group, partition))?.cuts ?? [])].sort((a, b) => a.first - b.first)
  }

  #caughtUp(since: number): Promise<void> {
    if (this.#catchingUp && this.#catchingUp.startedAt >= since) return this.#catchingUp.run
    const startedAt = monotonicMs()
    const run = (async () => {
      const ends = await this.client.endOffsets(this.topic)
      await Promise.all(
        [...ends].filter(([, end]) => end > 0).map(([p, end]) => this.#view.waitFor(p, end - 1)),
      )
    })()
    this.#catchingUp = { startedAt, run }
    const forget = (): void => {
      if (this.#catchingUp?.run === run) this.#catchingUp = undefined
    }
    run.then(forget, forget)
    return run
  }

  async stop(): Promise<void> {
    if (this.#running) await this.#view.stop()
    this.#running = false
  }
}
