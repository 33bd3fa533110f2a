import { partitionOfKey } from '../../coordination/processSet.js'
import { archiverKey } from '../archiverSet.js'
import type { ScalerConfigFields } from './config.js'
import { drainTimeMs, lagGrowing, type Sample, type StreamSample } from './decision.js'

/**
 * Parallelism `auto`, pure: how many archiver instances a topic gets, and on which slots.
 *
 * Count: ⌈(rate in + lag / maxDrain) / instanceRecordsPerSec⌉, one more while the lag keeps growing
 * or does not drain in time (the measured answer to "is one instance enough"), never more than the
 * topic's partitions (an instance without a partition idles) nor the archiving nodes (two instances
 * of a topic on one node add nothing a single one could not do). Growth applies at once; a shrink
 * waits for `calmIntervals` samples that all size lower.
 *
 * Slots: an archiver's key is `topic|sink|slot`, and the key's stable hash picks its partition of the
 * technical topic, whose owner runs it. So the scaler picks slots whose keys hash onto partitions of
 * different nodes (the least loaded first), and moves at most `maxMoves` instances per round from a
 * crowded node to one without any. A move is a new key: the core stops one instance and starts the
 * other, never two of one key, and the archive group rebalances (nothing lost or duplicated).
 */

export type ParallelismConfig = Pick<
  ScalerConfigFields,
  | 'instanceRecordsPerSec'
  | 'maxDrainMs'
  | 'growingIntervals'
  | 'calmIntervals'
  | 'calmLag'
  | 'targetLag'
  | 'intervalMs'
>

export interface InstancesInput {
  /** Partitions of the topic. */
  readonly partitions: number
  /** Nodes that archive now. */
  readonly nodes: number
  /** Instances per sink now. */
  readonly current: number
  /** The worst sink of the topic in each sample, oldest first (the last one is now). */
  readonly history: readonly Sample[]
  readonly topic: string
  /** When the count last changed (monotonic ms), if it did since this scaler started. */
  readonly lastChangeAt: number | undefined
  readonly now: number
}

/** The worst sink of `topic` in a sample (the largest lag). */
export function worstStream(sample: Sample, topic: string): StreamSample | undefined {
  let worst: StreamSample | undefined
  for (const s of sample.streams)
    if (s.topic === topic && (worst === undefined || s.lag > worst.lag)) worst = s
  return worst
}

function sized(stream: StreamSample, config: ParallelismConfig): number {
  const needed = stream.inRate + stream.lag / (config.maxDrainMs / 1000)
  return Math.max(1, Math.ceil(needed / config.instanceRecordsPerSec))
}

/** The instance count of a topic with parallelism `auto`, and why. */
export function autoInstances(
  input: InstancesInput,
  config: ParallelismConfig,
): { instances: number; reason: string } {
  const cap = Math.max(1, Math.min(input.partitions, input.nodes, 256))
  const last = input.history.at(-1)
  const stream = last === undefined ? undefined : worstStream(last, input.topic)
  if (stream === undefined) return { instances: Math.min(input.current, cap), reason: 'no measurement yet' }
  let wanted = sized(stream, config)
  let why = `${Math.round(stream.inRate)} rec/s in, lag ${stream.lag}: ${wanted} × ${config.instanceRecordsPerSec} rec/s`
  const settled =
    input.lastChangeAt === undefined ||
    input.now - input.lastChangeAt >= config.growingIntervals * config.intervalMs
  const topicHistory = input.history.flatMap((s) => {
    const w = worstStream(s, input.topic)
    return w === undefined ? [] : [{ ...s, streams: [w] }]
  })
  const growing = lagGrowing(topicHistory, stream, config.growingIntervals, config.calmLag)
  const slow = stream.lag > config.targetLag && drainTimeMs(stream) > config.maxDrainMs
  if ((growing || slow) && settled && wanted <= input.current) {
    wanted = input.current + 1
    why = growing
      ? `lag grew ${config.growingIntervals} intervals in a row to ${stream.lag}`
      : `lag ${stream.lag} does not drain in time`
  }
  const target = Math.min(cap, wanted)
  if (target > input.current) return { instances: target, reason: why }
  if (target === input.current) return { instances: target, reason: why }
  if (input.current > cap)
    return { instances: cap, reason: `at most ${cap} (partitions ${input.partitions}, nodes ${input.nodes})` }
  // Shrinking: only when every recent sample sizes lower and the lag stayed calm.
  const window = topicHistory.slice(-config.calmIntervals)
  if (window.length < config.calmIntervals) return { instances: input.current, reason: why }
  let most = 1
  for (const sample of window) {
    const s = sample.streams[0]
    if (s === undefined || s.lag > config.calmLag) return { instances: input.current, reason: why }
    most = Math.max(most, sized(s, config))
  }
  const shrunk = Math.max(target, Math.min(most, input.current))
  return shrunk < input.current
    ? { instances: shrunk, reason: `calm for ${config.calmIntervals} intervals: ${why}` }
    : { instances: input.current, reason: why }
}

export interface PlacementInput {
  readonly topic: string
  readonly sink: string
  readonly instances: number
  /** Slots in use now. */
  readonly current: readonly number[]
  /** Partition of the technical topic → the archiving node that owns it (unknown ones are missing). */
  readonly owners: ReadonlyMap<number, string>
  /** Archiving nodes and their load (lower: less loaded). */
  readonly load: ReadonlyMap<string, number>
  /** Partitions of the technical topic. */
  readonly partitions: number
  /** Instances moved from a crowded node per round at most. */
  readonly maxMoves: number
}

export interface Placement {
  readonly slots: number[]
  readonly moved: Array<{ from: number; to: number }>
}

/** How far slots are searched for one that lands on a given node (64 partitions per node × margin). */
const slotSearchLimit = 100_000

/** The slots of one topic × sink: kept where they are unless crowded, new ones on the least loaded nodes. */
export function placeSlots(input: PlacementInput): Placement {
  const nodeOf = (slot: number): string | undefined =>
    input.owners.get(partitionOfKey(archiverKey(input.topic, input.sink, slot), input.partitions))
  const nodes = [...input.load.keys()]
  const count = new Map<string, number>(nodes.map((n) => [n, 0]))
  const slots: number[] = []
  const take = (slot: number) => {
    slots.push(slot)
    const node = nodeOf(slot)
    if (node !== undefined && count.has(node)) count.set(node, (count.get(node) ?? 0) + 1)
  }
  const drop = (slot: number) => {
    slots.splice(slots.indexOf(slot), 1)
    const node = nodeOf(slot)
    if (node !== undefined && count.has(node)) count.set(node, (count.get(node) ?? 1) - 1)
  }
  for (const slot of input.current) if (!slots.includes(slot)) take(slot)
  const used = new Set(input.current)
  const byCrowd = (order: 1 | -1) => (a: string, b: string) =>
    order * ((count.get(a) ?? 0) - (count.get(b) ?? 0)) ||
    order * ((input.load.get(a) ?? 0) - (input.load.get(b) ?? 0)) ||
    a.localeCompare(b)
  const freeSlotOn = (node: string | undefined): number | undefined => {
    for (let slot = 0; slot < slotSearchLimit; slot++) {
      if (used.has(slot)) continue
      if (node === undefined || nodeOf(slot) === node) return slot
    }
    return undefined
  }
  // Shrink: drop from the most crowded node first (slots on no known node before any).
  while (slots.length > input.instances) {
    const stray = slots.find((s) => nodeOf(s) === undefined || !count.has(nodeOf(s) ?? ''))
    if (stray !== undefined) {
      drop(stray)
      continue
    }
    const crowded = [...nodes].sort(byCrowd(-1))[0]
    const victim = [...slots].reverse().find((s) => nodeOf(s) === crowded) ?? (slots.at(-1) as number)
    drop(victim)
  }
  // Grow: each new instance on the node with the fewest instances of this topic, then the least loaded.
  while (slots.length < input.instances) {
    let placed = false
    for (const node of [...nodes].sort(byCrowd(1))) {
      const slot = freeSlotOn(node)
      if (slot === undefined) continue
      used.add(slot)
      take(slot)
      placed = true
      break
    }
    if (placed) continue
    // No known owner anywhere (at startup): any free slot; a later round spreads it.
    const slot = freeSlotOn(undefined) as number
    used.add(slot)
    take(slot)
  }
  // Spread: move from a node with two more than another, until even or out of moves.
  const moved: Array<{ from: number; to: number }> = []
  while (moved.length < input.maxMoves && nodes.length > 1) {
    const sorted = [...nodes].sort(byCrowd(1))
    const emptiest = sorted[0] as string
    const fullest = sorted.at(-1) as string
    if ((count.get(fullest) ?? 0) - (count.get(emptiest) ?? 0) < 2) break
    const slot = freeSlotOn(emptiest)
    const from = [...slots].reverse().find((s) => nodeOf(s) === fullest)
    if (slot === undefined || from === undefined) break
    drop(from)
    used.add(slot)
    take(slot)
    moved.push({ from, to: slot })
  }
  return { slots: [...slots].sort((a, b) => a - b), moved }
}
