import type { Process } from '../coordination/process.js'
import type { KafkaClient } from '../kafka/index.js'
import { sleep } from '../util/sleep.js'
import { untilAborted } from '../util/timeout.js'
import { kdpClusterTopics } from './clusterNames.js'
import { fieldsOf } from './state/configStore.js'
import type { EventLog } from './state/eventLog.js'
import type { ConfigStore, StatusView } from './state/stores.js'
import { decodeConfigFields, type SinkSpec } from './state/topicConfig.js'

export interface HeavyUseThresholds {
  /** A node above this CPU % is under heavy use. */
  readonly cpuPercent: number
  /** A node above this resident memory is under heavy use. */
  readonly rssBytes: number
}

export interface MasterOptions {
  readonly client: KafkaClient
  readonly configs: ConfigStore
  readonly status: StatusView
  readonly events: EventLog
  readonly include: readonly RegExp[]
  readonly exclude: readonly RegExp[]
  /** kdp's own topics (config, status, events, technical, DLQs): never archived. */
  readonly internalTopics: ReadonlySet<string>
  readonly defaultSinks: readonly SinkSpec[]
  readonly discoveryIntervalMs: number
  readonly heavyUse: HeavyUseThresholds
  /** Where the master's warnings go (the status record of the node it runs on). */
  readonly setWarnings: (warnings: string[]) => void
}

/**
 * The topics to archive: included, not excluded, not internal (`__…`, this cluster's own, `….dlq`),
 * and not another kdp cluster's own on the same Kafka (see kdpClusterTopics).
 */
export function selectTopics(
  topics: readonly string[],
  include: readonly RegExp[],
  exclude: readonly RegExp[],
  internal: ReadonlySet<string>,
): string[] {
  const kdpOwn = kdpClusterTopics(topics)
  return topics
    .filter((t) => !t.startsWith('__') && !internal.has(t) && !kdpOwn.has(t) && !t.endsWith('.dlq'))
    .filter((t) => include.some((r) => r.test(t)) && !exclude.some((r) => r.test(t)))
    .sort()
}

/** Reasons the cluster is under heavy use now (empty: it is not). */
export function heavyUseReasons(
  nodes: ReturnType<StatusView['nodes']>,
  thresholds: HeavyUseThresholds,
): string[] {
  const reasons: string[] = []
  for (const node of nodes) {
    if (node.lost) continue
    if (node.cpuPercent > thresholds.cpuPercent)
      reasons.push(`${node.nodeId}: CPU ${node.cpuPercent}% > ${thresholds.cpuPercent}%`)
    if (node.rssBytes > thresholds.rssBytes) {
      reasons.push(
        `${node.nodeId}: memory ${Math.round(node.rssBytes / 2 ** 20)} MiB > ${Math.round(thresholds.rssBytes / 2 ** 20)} MiB`,
      )
    }
  }
  return reasons
}

/**
 * The singleton master, run through the coordination core (one process in its own group): finds
 * topics to archive and gives each a default config, and warns when the cluster is under heavy use.
 * Its state lives in Kafka, so a master that moves to another node carries on where it was.
 */
export function masterProcess(options: MasterOptions): Process {
  return async (ctx) => {
    // Every call to Kafka is raced against the abort: with the broker gone they retry for long,
    // and the master must settle within maxStopMs of its abort.
    const bounded = <T>(work: Promise<T>): Promise<T> => untilAborted(work, ctx.signal)
    await bounded(options.events.emit({ type: 'master-started', fencingToken: ctx.fencingToken })).catch(
      () => {},
    )
    ctx.logger.info('master running', { fencingToken: ctx.fencingToken })
    let heavy = false
    while (!ctx.signal.aborted) {
      try {
        const topics = selectTopics(
          await bounded(options.client.listTopics()),
          options.include,
          options.exclude,
          options.internalTopics,
        )
        for (const topic of topics) {
          if (options.configs.get(topic) || !ctx.isOwner()) continue
          await bounded(
            options.configs.put(
              topic,
              decodeConfigFields({ sinks: options.defaultSinks.map((s) => ({ ...s })) }),
            ),
          )
          await bounded(options.events.emit({ type: 'topic-discovered', topic }))
          ctx.logger.info('new topic to archive; default config written', { topic })
        }
        for (const config of options.configs.list()) {
          // A config without sinks archives nothing: give it the cluster's default.
          if (config.sinks.length === 0 && options.defaultSinks.length > 0 && ctx.isOwner()) {
            await bounded(
              options.configs.update(config.topic, (c) => ({
                ...fieldsOf(c),
                sinks: [...options.defaultSinks],
              })),
            )
          }
        }
        const reasons = heavyUseReasons(options.status.nodes(), options.heavyUse)
        options.setWarnings(reasons.map((r) => `heavy use: ${r}`))
        if (reasons.length > 0 && !heavy && ctx.isOwner()) {
          ctx.logger.warn('the cluster is under heavy use', { reasons })
          await bounded(options.events.emit({ type: 'heavy-use', nodeId: 'cluster', reasons }))
        }
        heavy = reasons.length > 0
      } catch (error) {
        if (ctx.signal.aborted) break
        ctx.logger.warn('master round failed; retrying next interval', {
          error: error instanceof Error ? error.message : String(error),
        })
      }
      await sleep(options.discoveryIntervalMs, ctx.signal)
    }
    options.setWarnings([])
  }
}
