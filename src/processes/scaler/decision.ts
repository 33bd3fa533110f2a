import type { ScalerConfigFields } from './config.js'

/**
 * The scaler's decision rule, a pure function of what it measured: a history of per-topic lag and
 * rates, the node count and load, the bounds, the config and the time. No I/O, no clock: every rule
 * below has its unit test (test/processes/scaler/decision.test.ts).
 *
 * Scale out (by 1 to `maxStepOut`) when a topic that could use more nodes
 * - had its lag (above `calmLag`) grow in each of the last `growingIntervals` intervals, or
 * - is above `targetLag` and would take longer than `maxDrainMs` to drain at the measured rates,
 * or when the nodes' mean CPU stayed above `cpuScaleOutPercent` for `growingIntervals`; not within
 * `scaleOutCooldownMs` of the last scale-out, and not while capacity asked for has not joined yet
 * (up to `joinTimeoutMs`). Scale in (always by one node, through a drain) when every topic was calm
 * (lag ≤ `calmLag`, not growing) for `calmIntervals` in a row and the CPU spread over one node fewer
 * stays under `cpuScaleInPercent`; not within `scaleInCooldownMs` of any action, nor while a drain
 * runs. The gap between the two thresholds and the two interval counts is the hysteresis.
 */

/** One topic × sink at one sample. */
export interface StreamSample {
  readonly topic: string
  readonly sink: string
  /** Unread records (see signals.ts for where they come from). */
  readonly lag: number
  /** Records produced to the topic per second since the previous sample. */
  readonly inRate: number
  /** Records its archivers read per second. */
  readonly outRate: number
  /**
   * Archiver instances it can have (its partitions for parallelism `auto`, else its parallelism):
   * more nodes than that cannot speed it up.
   */
  readonly maxInstances: number
}

/** What the scaler measured at one moment. */
export interface Sample {
  /** Monotonic ms. */
  readonly at: number
  readonly streams: readonly StreamSample[]
  /** Nodes that archive (not draining, drained or lost). */
  readonly nodes: number
  /** Their mean CPU (100: one core). */
  readonly meanCpuPercent: number
}

/** What the scaler did before, and asked for. */
export interface ScalingState {
  /** Capacity asked for: the group's desired capacity, or (recommend only) the last recommendation. */
  readonly desired: number
  /** A drain is under way (one scale-in at a time). */
  readonly draining: boolean
  readonly lastOutAt: number | undefined
  readonly lastInAt: number | undefined
  /** When this scaler started: scale-in cooldowns count from it too (its history starts there). */
  readonly startedAt: number
}

/** The node count's bounds, already combined from the config and the group. */
export interface Bounds {
  readonly min: number
  readonly max: number
  /** Where they come from, for reasons (`config`, `group g1 and config`). */
  readonly source: string
}

export type DecisionConfig = Pick<
  ScalerConfigFields,
  | 'targetLag'
  | 'calmLag'
  | 'growingIntervals'
  | 'maxDrainMs'
  | 'calmIntervals'
  | 'cpuScaleOutPercent'
  | 'cpuScaleInPercent'
  | 'scaleOutCooldownMs'
  | 'scaleInCooldownMs'
  | 'maxStepOut'
  | 'joinTimeoutMs'
  | 'instanceRecordsPerSec'
>

export interface Decision {
  readonly action: 'out' | 'in' | 'hold'
  /** The capacity to ask for (equal to `state.desired` on hold). */
  readonly desired: number
  readonly reason: string
  /** Falling behind with nothing to do about it (at the maximum, no parallelism left). */
  readonly warnings: readonly string[]
  /**
   * How a scale-in removes a node: `drain` (the default) drains an archiving node first;
   * `unjoined` ends an instance that never brought up a node (it holds nothing to drain).
   */
  readonly by?: 'drain' | 'unjoined'
}

const streamName = (s: Pick<StreamSample, 'topic' | 'sink'>) => `${s.topic}→${s.sink}`
const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`

/** The lags of one stream over the last `count` samples (oldest first); shorter if it is missing from some. */
function lagSeries(history: readonly Sample[], stream: StreamSample, count: number): number[] {
  const series: number[] = []
  for (const sample of history.slice(-count)) {
    const s = sample.streams.find((x) => x.topic === stream.topic && x.sink === stream.sink)
    if (s === undefined) return []
    series.push(s.lag)
  }
  return series
}

/** Whether the lag grew in each of the last `intervals` intervals (needs intervals + 1 samples). */
export function lagGrowing(
  history: readonly Sample[],
  stream: StreamSample,
  intervals: number,
  calmLag: number,
): boolean {
  const series = lagSeries(history, stream, intervals + 1)
  if (series.length < intervals + 1 || stream.lag <= calmLag) return false
  return series.every((lag, i) => i === 0 || lag > (series[i - 1] ?? Number.POSITIVE_INFINITY))
}

/** Time to drain the lag at the measured rates (ms); Infinity when it does not shrink. */
export function drainTimeMs(stream: StreamSample): number {
  if (stream.lag === 0) return 0
  const net = stream.outRate - stream.inRate
  return net > 0 ? (stream.lag / net) * 1000 : Number.POSITIVE_INFINITY
}

interface Pressure {
  readonly reasons: string[]
  readonly warnings: string[]
  /** Nodes to add that the rates suggest (at least 1). */
  readonly step: number
}

function pressureOf(history: readonly Sample[], last: Sample, config: DecisionConfig): Pressure {
  const reasons: string[] = []
  const warnings: string[] = []
  let factor = 0
  for (const stream of last.streams) {
    const found: string[] = []
    if (lagGrowing(history, stream, config.growingIntervals, config.calmLag))
      found.push(`lag grew ${config.growingIntervals} intervals in a row to ${stream.lag}`)
    const drain = drainTimeMs(stream)
    if (stream.lag > config.targetLag && drain > config.maxDrainMs) {
      found.push(
        drain === Number.POSITIVE_INFINITY
          ? `lag ${stream.lag} > target ${config.targetLag} and not draining`
          : `lag ${stream.lag} > target ${config.targetLag} drains in ${seconds(drain)} > ${seconds(config.maxDrainMs)}`,
      )
    }
    if (found.length === 0) continue
    if (stream.maxInstances <= last.nodes) {
      warnings.push(
        `${streamName(stream)} falls behind (${found.join('; ')}) but cannot use more nodes: it runs at most ${stream.maxInstances} archivers`,
      )
      continue
    }
    reasons.push(`${streamName(stream)}: ${found.join('; ')}`)
    // How much faster it must be read to keep up and drain within maxDrain.
    const needed = stream.inRate + stream.lag / (config.maxDrainMs / 1000)
    if (stream.outRate > 0) factor = Math.max(factor, needed / stream.outRate)
  }
  const cpuSeries = history.slice(-config.growingIntervals)
  if (
    cpuSeries.length >= config.growingIntervals &&
    last.nodes > 0 &&
    cpuSeries.every((s) => s.meanCpuPercent > config.cpuScaleOutPercent)
  ) {
    reasons.push(
      `mean CPU above ${config.cpuScaleOutPercent}% for ${config.growingIntervals} intervals (now ${Math.round(last.meanCpuPercent)}%)`,
    )
  }
  const nodes = Math.max(1, last.nodes)
  const step = factor > 1 ? Math.ceil(nodes * factor) - nodes : 1
  return { reasons, warnings, step: Math.max(1, Math.min(config.maxStepOut, step)) }
}

/** Whether the last `calmIntervals` samples were all calm, and what the CPU would be over one node fewer. */
function calmness(
  history: readonly Sample[],
  last: Sample,
  config: DecisionConfig,
): { calm: boolean; why: string } {
  const window = history.slice(-config.calmIntervals)
  if (window.length < config.calmIntervals)
    return { calm: false, why: `${window.length} of ${config.calmIntervals} calm intervals measured` }
  const loud = window.flatMap((s) => s.streams).find((s) => s.lag > config.calmLag)
  if (loud)
    return {
      calm: false,
      why: `${streamName(loud)} had lag ${loud.lag} > ${config.calmLag} within ${config.calmIntervals} intervals`,
    }
  if (last.nodes <= 1) return { calm: true, why: 'one node' }
  // Throughput: one node fewer must still leave each topic the instances its rate is sized for.
  for (const s of last.streams) {
    const needs = Math.min(s.maxInstances, Math.ceil(s.inRate / config.instanceRecordsPerSec))
    if (needs > last.nodes - 1)
      return {
        calm: false,
        why: `${streamName(s)} reads ${Math.round(s.inRate)} rec/s: ${needs} nodes of ${config.instanceRecordsPerSec} rec/s`,
      }
  }
  const projected = (last.meanCpuPercent * last.nodes) / (last.nodes - 1)
  if (projected >= config.cpuScaleInPercent)
    return {
      calm: false,
      why: `CPU over ${last.nodes - 1} nodes would be ${Math.round(projected)}% ≥ ${config.cpuScaleInPercent}%`,
    }
  const maxLag = Math.max(0, ...window.flatMap((s) => s.streams.map((x) => x.lag)))
  return {
    calm: true,
    why: `calm for ${config.calmIntervals} intervals (lag ≤ ${maxLag} ≤ ${config.calmLag}; CPU over ${last.nodes - 1} nodes ≈ ${Math.round(projected)}% < ${config.cpuScaleInPercent}%)`,
  }
}

function steady(last: Sample): string {
  const worst = [...last.streams].sort((a, b) => b.lag - a.lag)[0]
  return `steady: ${last.nodes} nodes, mean CPU ${Math.round(last.meanCpuPercent)}%${worst ? `, largest lag ${worst.lag} (${streamName(worst)})` : ''}`
}

/** The scaler's decision for now. `history` is oldest first and ends with the sample of now. */
export function decide(
  history: readonly Sample[],
  state: ScalingState,
  bounds: Bounds,
  config: DecisionConfig,
  now: number,
): Decision {
  const hold = (reason: string, warnings: readonly string[] = []): Decision => ({
    action: 'hold',
    desired: state.desired,
    reason,
    warnings,
  })
  const last = history.at(-1)
  if (last === undefined) return hold('no measurement yet')
  if (bounds.min > bounds.max)
    return hold('no valid bounds', [
      `the minimum ${bounds.min} is above the maximum ${bounds.max} (${bounds.source})`,
    ])
  if (state.desired < bounds.min)
    return {
      action: 'out',
      desired: bounds.min,
      reason: `below the minimum of ${bounds.min} (${bounds.source})`,
      warnings: [],
    }
  if (state.desired > bounds.max) {
    if (state.draining) return hold(`above the maximum of ${bounds.max}; a drain is under way`)
    return {
      action: 'in',
      desired: state.desired - 1,
      reason: `above the maximum of ${bounds.max} (${bounds.source})`,
      warnings: [],
    }
  }

  const pressure = pressureOf(history, last, config)
  if (pressure.reasons.length > 0) {
    const why = pressure.reasons.join('; ')
    if (state.desired >= bounds.max)
      return hold(`at the maximum of ${bounds.max} nodes`, [
        ...pressure.warnings,
        `at the maximum of ${bounds.max} nodes (${bounds.source}) and still falling behind: ${why}`,
      ])
    const waitingSince = state.lastOutAt ?? state.startedAt
    if (state.desired > last.nodes && now - waitingSince < config.joinTimeoutMs)
      return hold(
        `waiting for ${state.desired - last.nodes} of ${state.desired} nodes to join (${why})`,
        pressure.warnings,
      )
    if (state.lastOutAt !== undefined && now - state.lastOutAt < config.scaleOutCooldownMs)
      return hold(
        `scale-out cooldown, ${seconds(config.scaleOutCooldownMs - (now - state.lastOutAt))} left (${why})`,
        pressure.warnings,
      )
    const desired = Math.min(bounds.max, state.desired + pressure.step)
    return { action: 'out', desired, reason: why, warnings: pressure.warnings }
  }

  const calm = calmness(history, last, config)
  if (!calm.calm || state.desired <= bounds.min) return hold(steady(last), pressure.warnings)
  if (state.draining) return hold(`${calm.why}; a drain is under way`)
  if (state.desired > last.nodes) {
    // Capacity asked for that never joined (a node that fails at boot) would hold the scale-in
    // forever: after joinTimeoutMs, the instances without a node go first, one per decision.
    const missing = state.desired - last.nodes
    const waitingSince = state.lastOutAt ?? state.startedAt
    if (now - waitingSince < config.joinTimeoutMs)
      return hold(`${calm.why}; ${missing} nodes asked for have not joined`)
    return {
      action: 'in',
      desired: state.desired - 1,
      reason: `${calm.why}; ${missing} nodes asked for did not join within ${seconds(config.joinTimeoutMs)}: ending an instance without a node`,
      warnings: [],
      by: 'unjoined',
    }
  }
  const since = Math.max(
    state.lastOutAt ?? state.startedAt,
    state.lastInAt ?? state.startedAt,
    state.startedAt,
  )
  if (now - since < config.scaleInCooldownMs)
    return hold(`${calm.why}; scale-in cooldown, ${seconds(config.scaleInCooldownMs - (now - since))} left`)
  return { action: 'in', desired: state.desired - 1, reason: calm.why, warnings: [] }
}
