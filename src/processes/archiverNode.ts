import { DistributedProcessing, type ProcessingHandle } from '../coordination/distributedProcessing.js'
import { supervise } from '../coordination/supervision.js'
import { type HttpApi, startHttpApi } from '../http/server.js'
import { connectKafka, type KafkaClient, type KafkaSecurity } from '../kafka/index.js'
import { messageOf } from '../util/errors.js'
import { createLogger, type Logger } from '../util/logging.js'
import { withTimeout } from '../util/timeout.js'
import { cutsTopicSettings } from './archiver/cutLog.js'
import type { ArchiveMetrics } from './archiver/metrics.js'
import { type ArchiverFactory, ArchiverSet } from './archiverSet.js'
import { clusterNames } from './clusterNames.js'
import { type HeavyUseThresholds, masterProcess } from './master.js'
import { createNodeMetrics } from './nodeMetrics.js'
import { AwsAutoScaling, type AwsAutoScalingOptions } from './scaler/autoScaling.js'
import { CommandsStore } from './scaler/commands.js'
import { KafkaScalerConfigStore } from './scaler/configStore.js'
import { DrainAgent } from './scaler/drainAgent.js'
import { placementSlots } from './scaler/placementSlots.js'
import { scalerProcess } from './scaler/scaler.js'
import { KafkaConfigStore } from './state/configStore.js'
import { EventFeed } from './state/eventFeed.js'
import { EventLog } from './state/eventLog.js'
import { StatusStore } from './state/statusStore.js'
import type { ProcessStatus } from './state/stores.js'
import type { SinkSpec } from './state/topicConfig.js'

export interface ArchiverNodeOptions {
  readonly brokers: readonly string[]
  /** TLS, SASL and timeouts of every Kafka connection of the node. Never logged. */
  readonly kafka?: KafkaSecurity
  /** Prefix of kdp's topics and groups: `<cluster>-configs`, `-status`, `-events`, `-processes`. Default `kdp`. */
  readonly cluster?: string
  readonly nodeId?: string
  /** Regular expressions of topics to archive (default: every topic) and to leave alone. */
  readonly include?: readonly string[]
  readonly exclude?: readonly string[]
  /** Sinks written into the config of every newly discovered topic. */
  readonly defaultSinks: readonly SinkSpec[]
  /** The HTTP API and dashboard; `false` to serve none. */
  readonly http?:
    | {
        readonly host?: string
        readonly port?: number
        readonly token?: string
        /** Origins besides the nodes' own allowed to read cross-origin (a load balancer's). */
        readonly corsOrigins?: readonly string[]
      }
    | false
  readonly archiver: ArchiverFactory
  /** The archivers' counters (the same object given to createArchiverFactory): lag in status records. */
  readonly metrics?: ArchiveMetrics
  readonly statusIntervalMs?: number
  readonly discoveryIntervalMs?: number
  readonly heavyUse?: HeavyUseThresholds
  /** This node's EC2 instance (the scaler terminates it after a drain); null or absent: none. */
  readonly instanceId?: string | null
  /** The AWS Auto Scaling group this node's scaler acts on (when it is the scaler); absent: recommend only. */
  readonly autoscaling?: AwsAutoScalingOptions
  /** Coordination timings (see DistributedProcessingSettings). */
  readonly sessionTimeoutMs?: number
  readonly heartbeatIntervalMs?: number
  readonly maxStopMs?: number
  readonly leaseMarginMs?: number
  readonly partitions?: number
  readonly logger?: Logger
}

/** A running kdp-archiver node. */
export interface ArchiverNode {
  readonly nodeId: string
  /** `http://host:port` of its HTTP API, or null. */
  readonly httpAddress: string | null
  readonly configs: KafkaConfigStore
  readonly status: StatusStore
  /** Archivers running on this node, with the config revision each was built from. */
  running(): ProcessStatus[]
  /** Stops the archivers and the master (handing them over), tombstones its status, closes the API. */
  stop(): Promise<void>
  /**
   * Resolves if one of the node's process groups failed for good (a Kafka error kafkajs does not
   * retry, such as a revoked ACL): the node then runs less than its share. Never resolves
   * otherwise. `kdp-archiver` stops the node and exits 1, for its supervisor to restart it.
   */
  readonly failed: Promise<GroupFailure>
}

/** A process group of a node that failed for good. */
export interface GroupFailure {
  readonly group: string
  readonly error: string
}

/**
 * The archive cluster's default maxStopMs: an archiver's stop abandons its uploads and does not wait
 * out its LeaveGroup, so it settles well within this (see docs/benchmarks.md, "Archiver stop time").
 */
export const archiveMaxStopMs = 5000

/** How long one stop step that talks to Kafka or to HTTP clients may take. */
const stopStepBoundMs = 2000

/**
 * How long `stop()` of a node takes at the most, whatever the brokers do: the processes' own
 * maxStopMs, the hand-over round (5 s), LeaveGroups (2 × 3 s; the groups leave at the same time),
 * and seven bounded steps (2 s each: the drain agent, four readers and writers of Kafka, the API).
 */
export function nodeStopBoundMs(maxStopMs: number): number {
  return maxStopMs + 5000 + 6000 + 7 * stopStepBoundMs
}

/**
 * Starts a node of the archiving cluster: cluster state from Kafka, the HTTP API, the singleton
 * master and this node's share of the archivers. Every node runs the same thing; Kafka decides who
 * runs what.
 */
export async function startArchiverNode(options: ArchiverNodeOptions): Promise<ArchiverNode> {
  const names = clusterNames(options.cluster ?? 'kdp')
  const processing = new DistributedProcessing({
    brokers: options.brokers,
    topic: names.technical,
    partitions: options.partitions ?? 32,
    ...(options.nodeId !== undefined && { nodeId: options.nodeId }),
    ...(options.sessionTimeoutMs !== undefined && { sessionTimeoutMs: options.sessionTimeoutMs }),
    ...(options.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    maxStopMs: options.maxStopMs ?? archiveMaxStopMs,
    ...(options.leaseMarginMs !== undefined && { leaseMarginMs: options.leaseMarginMs }),
    ...(options.kafka !== undefined && { kafka: options.kafka }),
    logger: options.logger ?? createLogger(),
  })
  const nodeId = processing.settings.nodeId
  const logger = (options.logger ?? createLogger()).child({ node: nodeId })
  const client: KafkaClient = connectKafka({
    brokers: options.brokers,
    clientId: `kdp-${nodeId}`,
    ...options.kafka,
    logger,
  })
  const events = new EventLog(client, names.events, nodeId, logger)
  const configs = new KafkaConfigStore(client, names.configs, events, logger)
  // Undone last first. Each step that talks to Kafka or clients is bounded: a node asked to stop
  // while its broker is gone must still exit (see the README, "Stopping a node").
  const cleanups: Array<{ what: string; run: () => Promise<void>; boundMs?: number }> = [
    { what: 'disconnect from Kafka', run: () => client.disconnect(), boundMs: stopStepBoundMs },
  ]
  const stopAll = async (): Promise<void> => {
    for (const step of cleanups.splice(0).reverse()) {
      const run = step.run()
      await (step.boundMs === undefined ? run : withTimeout(run, step.boundMs, step.what)).catch(
        (error: unknown) =>
          logger.warn('stop step failed; going on', { step: step.what, error: messageOf(error) }),
      )
    }
  }
  try {
    await events.start()
    // Created here like the other state topics, so that no archiver waits for it (see cutLog.ts).
    await client.ensureTopic({ topic: names.cuts, ...cutsTopicSettings })
    await configs.start()
    cleanups.push({ what: 'stop reading configs', run: () => configs.stop(), boundMs: stopStepBoundMs })
    const scalerConfig = new KafkaScalerConfigStore(client, names.configs, events, logger)
    await scalerConfig.start()
    cleanups.push({
      what: 'stop reading the scaler config',
      run: () => scalerConfig.stop(),
      boundMs: stopStepBoundMs,
    })
    const commands = new CommandsStore(client, names.commands, logger)
    await commands.start()
    cleanups.push({ what: 'stop reading commands', run: () => commands.stop(), boundMs: stopStepBoundMs })

    let masterWarnings: string[] = []
    const handles: ProcessingHandle[] = []
    const archivers = new ArchiverSet(configs, options.archiver, placementSlots(commands))
    cleanups.push({ what: 'close the archiver set', run: async () => archivers.close() })
    const running = (): ProcessStatus[] =>
      handles.flatMap((h) =>
        h.running().map((r) => {
          const revision = h.name === names.archiverGroup ? archivers.revisionOf(r.key) : undefined
          return {
            group: h.name,
            key: r.key,
            partition: r.partition,
            fencingToken: r.fencingToken,
            state: r.state,
            ...(revision !== undefined && { revision }),
          }
        }),
      )

    let http: HttpApi | undefined
    const statusIntervalMs = options.statusIntervalMs ?? 5000
    let drainAgent: DrainAgent | undefined
    const status = new StatusStore(
      client,
      names.status,
      {
        nodeId,
        httpAddress: () => http?.address ?? null,
        intervalMs: statusIntervalMs,
        sources: {
          processes: running,
          lag: () => options.metrics?.lag() ?? 0,
          partitions: () => options.metrics?.sampleLoads() ?? [],
          stoppedArchivers: () => options.metrics?.stopped.list() ?? [],
          warnings: () => masterWarnings,
          scaling: () => ({
            instanceId: options.instanceId ?? null,
            drain: drainAgent?.state() ?? null,
            assignedPartitions: Object.fromEntries(handles.map((h) => [h.name, h.assignedPartitions()])),
          }),
        },
      },
      logger,
    )
    if (options.http !== false) {
      // Read only once a dashboard or `GET /events` asks; stopped with the node.
      const feed = new EventFeed(client, names.events, logger)
      cleanups.push({ what: 'stop reading events', run: () => feed.stop(), boundMs: stopStepBoundMs })
      const metrics = createNodeMetrics({
        nodeId,
        cluster: options.cluster ?? 'kdp',
        archive: options.metrics,
        handles: () => handles,
      })
      cleanups.push({ what: 'close the metrics registry', run: async () => metrics.close() })
      http = await startHttpApi({
        configs,
        status,
        token: options.http?.token,
        ...(options.http?.host !== undefined && { host: options.http.host }),
        ...(options.http?.port !== undefined && { port: options.http.port }),
        logger,
        nodeId,
        knownTopics: () => client.listTopics(),
        events: feed,
        metrics,
        cluster: options.cluster ?? 'kdp',
        statusIntervalMs,
        ...(options.http?.corsOrigins !== undefined && { corsOrigins: options.http.corsOrigins }),
        scaling: { config: scalerConfig, recommendation: () => commands.decision() },
      })
      const api = http
      cleanups.push({ what: 'close the HTTP API', run: () => api.stop(), boundMs: stopStepBoundMs })
    }
    await status.start()
    cleanups.push({ what: 'tombstone the node status', run: () => status.stop(), boundMs: stopStepBoundMs })

    const include = (options.include ?? ['.*']).map((r) => new RegExp(`^(?:${r})$`))
    const exclude = (options.exclude ?? []).map((r) => new RegExp(`^(?:${r})$`))
    const master = supervise(
      masterProcess({
        client,
        configs,
        status,
        events,
        include,
        exclude,
        internalTopics: new Set(names.internal),
        defaultSinks: options.defaultSinks,
        discoveryIntervalMs: options.discoveryIntervalMs ?? 10_000,
        heavyUse: options.heavyUse ?? { cpuPercent: 85, rssBytes: 1.5 * 2 ** 30 },
        setWarnings: (warnings) => {
          masterWarnings = warnings
        },
      }),
      { maxRestarts: Number.POSITIVE_INFINITY },
    )
    const capacity = options.autoscaling ? new AwsAutoScaling(options.autoscaling) : undefined
    if (capacity) cleanups.push({ what: 'close the Auto Scaling client', run: async () => capacity.close() })
    const scaler = supervise(
      scalerProcess({
        client,
        cluster: options.cluster ?? 'kdp',
        configs,
        scalerConfig,
        status,
        commands,
        events,
        capacity,
        technicalPartitions: processing.settings.partitions,
        groups: { archiver: names.archiverGroup, singletons: [names.masterGroup, names.scalerGroup] },
        nodeId,
      }),
      { maxRestarts: Number.POSITIVE_INFINITY },
    )
    // The groups hand over at the same time (each stop is bounded by the core itself).
    cleanups.push({
      what: 'stop the master, the scaler and the archivers',
      run: async () => {
        await Promise.all(handles.map((h) => h.stop()))
      },
    })
    let groupFailed: (failure: GroupFailure) => void = () => {}
    const failed = new Promise<GroupFailure>((resolve) => {
      groupFailed = resolve
    })
    const started = async (name: string, processes: Parameters<typeof processing.start>[1]) => {
      const handle = await processing.start(name, processes)
      handle.done.catch((error: unknown) => {
        logger.error('a process group failed for good; this node runs less than its share', {
          group: name,
          error: messageOf(error),
        })
        groupFailed({ group: name, error: messageOf(error) })
      })
      handle.onFailure(
        (f) =>
          void events.emit({
            type: 'process-failed',
            group: handle.name,
            key: f.key,
            error: String(f.error),
          }),
      )
      handles.push(handle)
      return handle
    }
    await started(names.masterGroup, [master])
    await started(names.scalerGroup, [scaler])
    await started(names.archiverGroup, archivers)
    // An archiver that stops by itself (a permanent sink error, a conflicting object) is an event.
    const unsubscribeStops = options.metrics?.stopped.onStop(
      (stopped) => void events.emit({ type: 'archiver-stopped', nodeId, ...stopped }),
    )
    if (unsubscribeStops)
      cleanups.push({ what: 'stop reporting archiver stops', run: async () => unsubscribeStops() })
    // A drain stops this node's archiver group (the core hands the archivers over); a cancelled one
    // joins it again.
    drainAgent = new DrainAgent({
      nodeId,
      commands,
      events,
      logger,
      ...(options.archiver.quiesce && { quiesce: options.archiver.quiesce }),
      ...(options.archiver.resume && { resume: options.archiver.resume }),
      stopArchivers: async () => {
        const handle = handles.find((h) => h.name === names.archiverGroup)
        if (!handle) return
        await handle.stop()
        handles.splice(handles.indexOf(handle), 1)
      },
      startArchivers: async () => {
        if (!handles.some((h) => h.name === names.archiverGroup))
          await started(names.archiverGroup, archivers)
      },
      quiesceWaitMs: () => Math.round(scalerConfig.get().drainTimeoutMs / 2),
      publish: () => status.publish(),
    })
    const agent = drainAgent
    agent.start()
    cleanups.push({
      what: 'stop following drain commands',
      run: () => agent.stop(),
      boundMs: stopStepBoundMs,
    })
    logger.info('node started', { httpAddress: http?.address ?? null, cluster: options.cluster ?? 'kdp' })
    return {
      nodeId,
      httpAddress: http?.address ?? null,
      configs,
      status,
      running: () => running().filter((p) => p.group === names.archiverGroup),
      stop: stopAll,
      failed,
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}
