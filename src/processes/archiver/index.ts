import { availableParallelism } from 'node:os'
import pLimit from 'p-limit'
import { connectKafka, type KafkaSecurity } from '../../kafka/index.js'
import type { Sink } from '../../sinks/sink.js'
import type { Logger } from '../../util/logging.js'
import type { ArchiverFactory } from '../archiverSet.js'
import { Archiver } from './archiver.js'
import { CutLog, cutsTopicOf } from './cutLog.js'
import { DeadLetters } from './deadLetters.js'
import { InFlightBudget } from './inFlightBudget.js'
import { JsonChecks } from './jsonChecks.js'
import type { ArchiveMetrics } from './metrics.js'
import { ParquetWorkers } from './parquetWorkers.js'
import { QuiesceRegistry, type QuiesceReport } from './quiesce.js'

export { ArchiveMetrics } from './metrics.js'
export type { QuiesceReport } from './quiesce.js'

export interface ArchiverFactoryOptions {
  readonly brokers: readonly string[]
  /** TLS, SASL and timeouts. Never logged. */
  readonly kafka?: KafkaSecurity
  /** The cluster name (prefix of the archivers' consumer groups). */
  readonly cluster: string
  /** Opens the sink of a `SinkSpec.url` (cached per URL by the factory). */
  readonly openSink: (url: string) => Sink
  /** Node-wide bounds on buffered data; at the bound archivers flush early and fetching pauses. */
  readonly maxMessagesInFlight: number
  readonly maxBytesInFlight: number
  readonly metrics: ArchiveMetrics
  readonly logger: Logger
  /**
   * Session of the archive consumer groups (default 10 s). After a node is killed its archivers
   * start elsewhere once the placement group moved them (its session + the handover delay); their
   * groups then wait for the dead members' sessions too, so a longer one delays archiving.
   */
  readonly archiveSessionTimeoutMs?: number
}

/** The consumer group of one (topic, sink): each sink keeps its own offsets. */
export function archiveGroupId(cluster: string, topic: string, sinkId: string): string {
  return `${cluster}-archive-${topic}-${sinkId}`
}

/**
 * The archiver processes of a node: one per (topic, sink, parallelism index). All instances of one
 * (topic, sink) form one consumer group that splits the topic's partitions.
 */
export function createArchiverFactory(options: ArchiverFactoryOptions): ArchiverFactory & {
  close(): Promise<void>
  quiesce(waitMs: number): Promise<QuiesceReport>
  resume(): void
} {
  const kafka = connectKafka({
    brokers: options.brokers,
    clientId: `${options.cluster}-archiver`,
    ...options.kafka,
    logger: options.logger,
  })
  const sinks = new Map<string, Sink>()
  const deadLetters = new DeadLetters(kafka)
  const cuts = new CutLog(kafka, cutsTopicOf(options.cluster), options.logger)
  const budget = new InFlightBudget(options.maxMessagesInFlight, options.maxBytesInFlight)
  // A file being encoded holds a second, uncounted copy of its bytes plus zlib's state (~0.3 MiB):
  // with hundreds of partitions flushing at once that was ~130 MiB beyond the bound. zlib runs on
  // libuv's 4 pool threads, so more than that many at once only wait there holding memory.
  const encodeSlots = pLimit(Math.min(4, availableParallelism()))
  const quiesce = new QuiesceRegistry()
  const parquetWorkers = new ParquetWorkers()
  const jsonChecks = new JsonChecks()
  const factory: ArchiverFactory = (config, sinkSpec, index) => async (ctx) => {
    let sink = sinks.get(sinkSpec.url)
    if (!sink) {
      sink = options.openSink(sinkSpec.url)
      sinks.set(sinkSpec.url, sink)
    }
    const groupId = archiveGroupId(options.cluster, config.topic, sinkSpec.id)
    ctx.logger.info('archiver running', {
      topic: config.topic,
      sink: sinkSpec.url,
      index,
      revision: config.revision,
      groupId,
    })
    const archiver = new Archiver(
      {
        config,
        sink,
        sinkId: sinkSpec.id,
        consumer: kafka.topicConsumer(groupId, config.topic, {
          ...(options.archiveSessionTimeoutMs !== undefined && {
            sessionTimeoutMs: options.archiveSessionTimeoutMs,
          }),
        }),
        deadLetters,
        cuts,
        budget,
        encodeSlots,
        parquetWorkers,
        jsonChecks,
        metrics: options.metrics,
        lagKey: groupId,
        quiesce,
      },
      ctx,
    )
    await archiver.run()
  }
  // The cuts log's reader, the dead-letter producer and admin connections; the sinks are the caller's.
  return Object.assign(factory, {
    close: async () => {
      await cuts.stop()
      await kafka.disconnect()
      await parquetWorkers.close()
      await jsonChecks.close()
    },
    quiesce: (waitMs: number) => quiesce.quiesceAll(waitMs),
    resume: () => quiesce.resume(),
  })
}
