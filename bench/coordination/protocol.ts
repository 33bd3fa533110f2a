// What the benchmark controller and its node processes tell each other. A node gets its config as
// JSON in the KDP_BENCH_NODE environment variable and reports events as JSON lines on stdout.

/** The kdp settings every coordination benchmark uses unless it says otherwise. */
export interface Timings {
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly maxStopMs: number
  readonly leaseMarginMs: number
}

/** A node running `DistributedProcessing.start(group, processes)`; every process only sleeps. */
export interface KdpNodeConfig extends Timings {
  readonly kind: 'kdp'
  readonly nodeId: string
  readonly brokers: readonly string[]
  readonly group: string
  readonly topic: string
  readonly partitions: number
  readonly processes: number
}

/** A plain kafkajs consumer in a group (the baseline). Unset timings take the kafkajs defaults. */
export interface KafkajsMemberConfig {
  readonly kind: 'kafkajs'
  readonly nodeId: string
  readonly brokers: readonly string[]
  readonly group: string
  readonly topic: string
  readonly sessionTimeoutMs?: number
  readonly rebalanceTimeoutMs?: number
  readonly heartbeatIntervalMs?: number
  readonly maxWaitTimeInMs?: number
}

export type NodeConfig = KdpNodeConfig | KafkajsMemberConfig

/** Times are `Date.now()` in the node (same host clock as the controller). */
export type NodeEvent =
  /** The node's modules are loaded (its first statement runs): what Node startup costs. */
  | { readonly e: 'loaded'; readonly node: string; readonly at: number }
  | { readonly e: 'ready'; readonly node: string; readonly pid: number; readonly at: number }
  | { readonly e: 'start'; readonly node: string; readonly k: number; readonly at: number }
  | { readonly e: 'stop'; readonly node: string; readonly k: number; readonly at: number }
  /** kafkajs: the member saw a rebalance start and stopped consuming every partition (eager protocol). */
  | { readonly e: 'rebalancing'; readonly node: string; readonly at: number }
  | {
      readonly e: 'join'
      readonly node: string
      readonly partitions: readonly number[]
      readonly leader: boolean
      readonly at: number
    }

export const configVariable = 'KDP_BENCH_NODE'

export function readConfig<C extends NodeConfig>(kind: C['kind']): C {
  const raw = process.env[configVariable]
  if (!raw)
    throw new Error(`${configVariable} is not set: this script is started by bench/coordination/run.ts`)
  const config = JSON.parse(raw) as NodeConfig
  if (config.kind !== kind) throw new Error(`expected a ${kind} node config, got ${config.kind}`)
  return config as C
}

/** One event, one line; stdout to a pipe is synchronous on Linux, so lines never interleave. */
export function emit(event: NodeEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}
