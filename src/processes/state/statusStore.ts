import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { isLeft } from 'fp-ts/lib/Either.js'
import { monotonicMs } from '../../coordination/lease.js'
import { CompactedView, jsonRecord, type KafkaClient } from '../../kafka/index.js'
import { fieldErrors, stripUnknown } from '../../util/decode.js'
import type { Logger } from '../../util/logging.js'
import {
  NodeStatus,
  type PartitionLoad,
  type ProcessStatus,
  type ReportedNode,
  type StoppedArchiver,
} from './status.js'
import type { StatusView } from './stores.js'

export const statusTopicSettings = {
  partitions: 1,
  config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(3600 * 1000) },
}

/** What the node contributes to its status record at each publication. */
export interface StatusSources {
  processes(): ProcessStatus[]
  lag(): number
  warnings(): string[]
  /** The load of every topic-partition this node's archivers own (empty when it runs none). */
  partitions?(): PartitionLoad[]
  /** Archivers of this node that stopped by themselves. */
  stoppedArchivers?(): StoppedArchiver[]
  /** What the scaler reads about this node: its instance, its drain, its partitions per group. */
  scaling?(): Pick<NodeStatus, 'instanceId' | 'drain' | 'assignedPartitions'>
}

/** Machine-wide bytes received and sent, from /proc/net/dev (zeros where it does not exist). */
function networkCounters(): { received: number; sent: number } {
  try {
    let received = 0
    let sent = 0
    for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)) {
      const fields = line.trim().split(/[:\s]+/)
      if (fields.length < 10) continue
      received += Number(fields[1])
      sent += Number(fields[9])
    }
    return { received, sent }
  } catch {
    return { received: 0, sent: 0 }
  }
}

/**
 * Publishes this node's status to a compacted topic every `intervalMs` (a tombstone when it stops)
 * and reads every node's. A node silent for more than 3 intervals, as timed by this node's own
 * clock, is `lost`.
 */
export class StatusStore implements StatusView {
  readonly #view: CompactedView<NodeStatus>
  readonly #receivedAt = new Map<string, number>()
  readonly #startedAt = new Date().toISOString()
  #timer: NodeJS.Timeout | undefined
  #lastSample = { at: monotonicMs(), cpu: process.cpuUsage(), net: networkCounters() }
  #publishing: Promise<void> = Promise.resolve()

  constructor(
    private readonly client: KafkaClient,
    readonly topic: string,
    private readonly options: {
      nodeId: string
      httpAddress: () => string | null
      intervalMs: number
      sources: StatusSources
    },
    private readonly logger: Logger,
  ) {
    this.#view = new CompactedView<NodeStatus>(
      client,
      topic,
      jsonRecord<NodeStatus>((value) => {
        const decoded = NodeStatus.decode(value)
        return isLeft(decoded)
          ? {
              ok: false,
              reason: fieldErrors(decoded.left)
                .map((e) => `${e.path}: ${e.message}`)
                .join('; '),
            }
          : // Fields a newer node adds are dropped: what this node serves is what it documents.
            { ok: true, value: stripUnknown(NodeStatus, decoded.right) }
      }),
      logger,
    )
    this.#view.subscribe((nodeId, status) => {
      if (status) this.#receivedAt.set(nodeId, monotonicMs())
      else this.#receivedAt.delete(nodeId)
    })
  }

  async start(): Promise<void> {
    await this.client.ensureTopic({ topic: this.topic, ...statusTopicSettings })
    await this.#view.start()
    // Records read at startup count as just received: their age is unknown to this node's clock.
    this.#loopDelay.enable()
    await this.publish()
    this.#timer = setInterval(() => void this.publish(), this.options.intervalMs)
  }

  /** Publishes now (also called by the timer); errors are logged, never thrown. */
  publish(): Promise<void> {
    this.#publishing = this.#publishing.then(async () => {
      try {
        const status = this.#sample()
        const { partition, offset } = await this.client.produce(this.topic, {
          key: status.nodeId,
          value: JSON.stringify(status),
        })
        await this.#view.waitFor(partition, offset)
      } catch (error) {
        this.logger.warn('could not publish node status', {
          error: error instanceof Error ? error.message : String(error),
        })
      }
    })
    return this.#publishing
  }

  /** Stops publishing and tombstones this node's record (a graceful leave). */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#loopDelay.disable()
    await this.#publishing
    try {
      await this.client.produce(this.topic, { key: this.options.nodeId, value: null })
    } catch (error) {
      this.logger.warn('could not tombstone node status', {
        error: error instanceof Error ? error.message : String(error),
      })
    }
    await this.#view.stop()
  }

  subscribe(listener: (nodeId: string) => void): () => void {
    return this.#view.subscribe((nodeId) => listener(nodeId))
  }

  /** How often each node publishes its status. */
  get intervalMs(): number {
    return this.options.intervalMs
  }

  nodes(): ReportedNode[] {
    const now = monotonicMs()
    return [...this.#view.entries().values()]
      .map((status) => ({
        ...status,
        lost: now - (this.#receivedAt.get(status.nodeId) ?? now) > 3 * this.options.intervalMs,
      }))
      .sort((a, b) => a.nodeId.localeCompare(b.nodeId))
  }

  /** Event-loop delay since the last status (ns histogram, 20 ms resolution). */
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 20 })

  #sample(): NodeStatus {
    const now = monotonicMs()
    const cpu = process.cpuUsage()
    const net = networkCounters()
    const elapsedMs = Math.max(1, now - this.#lastSample.at)
    const cpuMicros = cpu.user - this.#lastSample.cpu.user + (cpu.system - this.#lastSample.cpu.system)
    const perSecond = (delta: number) => Math.max(0, Math.round((delta * 1000) / elapsedMs))
    const sample: NodeStatus = {
      nodeId: this.options.nodeId,
      host: hostname(),
      pid: process.pid,
      httpAddress: this.options.httpAddress(),
      startedAt: this.#startedAt,
      updatedAt: new Date().toISOString(),
      cpuPercent: Math.round((cpuMicros / 1000 / elapsedMs) * 1000) / 10,
      rssBytes: process.memoryUsage.rss(),
      heapUsedBytes: process.memoryUsage().heapUsed,
      networkBytesPerSec: {
        received: perSecond(net.received - this.#lastSample.net.received),
        sent: perSecond(net.sent - this.#lastSample.net.sent),
      },
      processes: this.options.sources.processes(),
      lag: this.options.sources.lag(),
      warnings: this.options.sources.warnings(),
      eventLoopDelayMs: Math.round(this.#loopDelay.percentile(99) / 1e4) / 100,
      partitions: this.options.sources.partitions?.() ?? [],
      stoppedArchivers: this.options.sources.stoppedArchivers?.() ?? [],
      ...(this.options.sources.scaling?.() ?? { instanceId: null, drain: null, assignedPartitions: {} }),
    }
    this.#loopDelay.reset()
    this.#lastSample = { at: now, cpu, net }
    return sample
  }
}
