// 5: processes down at once per single-node event, kdp against a plain kafkajs group. 3 nodes, 30
// processes on 30 partitions (kafkajs: 30 partitions, a partition standing for a process). For each
// event, from the moment it is injected until the group is stable again: the largest number of
// processes (partitions) that had no running instance (owner) at the same moment. kafkajs's eager
// protocol stops every partition of every member at each rebalance; kdp keeps what does not move.
import type { BenchNode, Fleet } from './fleet.js'
import type { KafkajsMemberConfig, KdpNodeConfig } from './protocol.js'

export const outageEvents = ['kill-restart', 'kill', 'term', 'freeze', 'join'] as const
export type OutageEvent = (typeof outageEvents)[number]

export interface OutageDeps {
  newFleet(name: string): Fleet
  closeFleet(fleet: Fleet): Promise<void>
  fresh(name: string, partitions: number): Promise<{ topic: string; group: string }>
  kdpConfig(nodeId: string, names: { topic: string; group: string }): KdpNodeConfig
  kafkajsConfig(nodeId: string, names: { topic: string; group: string }): KafkajsMemberConfig
  waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void>
  sessionTimeoutMs: number
  log(message: string): void
}

export interface OutageSample {
  readonly event: OutageEvent
  readonly kind: 'kdp' | 'kafkajs'
  /** Processes (partitions) the touched node ran right before the event (join: 0). */
  readonly share: number
  readonly maxDown: number
  /** How long at least one process was down, ms. */
  readonly downMs: number
}

const PROCESSES = 30

interface Window {
  readonly from: number
  readonly to: number
}

/** Largest number of the `n` units with no live interval at one moment of [from, to), and how long any was down. */
function downOf(
  lives: ReadonlyArray<{ unit: number; node: string; start: number; end: number }>,
  frozen: ReadonlyMap<string, Window>,
  n: number,
  from: number,
  to: number,
): { maxDown: number; downMs: number } {
  const moments = new Set<number>([from])
  for (const l of lives) {
    for (const t of [l.start, l.end]) if (t >= from && t < to) moments.add(t)
  }
  for (const w of frozen.values()) for (const t of [w.from, w.to]) if (t >= from && t < to) moments.add(t)
  const sorted = [...moments].sort((a, b) => a - b)
  let maxDown = 0
  let downMs = 0
  for (const [i, at] of sorted.entries()) {
    const up = new Set<number>()
    for (const l of lives) {
      const freeze = frozen.get(l.node)
      const isFrozen = freeze !== undefined && at >= freeze.from && at < freeze.to
      if (l.start <= at && at < l.end && !isFrozen) up.add(l.unit)
    }
    const down = n - up.size
    maxDown = Math.max(maxDown, down)
    if (down > 0) downMs += (sorted[i + 1] ?? to) - at
  }
  return { maxDown, downMs }
}

async function inject(
  deps: OutageDeps,
  fleet: Fleet,
  event: OutageEvent,
  victim: BenchNode,
  spawn: (id: string) => void,
  frozen: Map<string, Window>,
): Promise<number> {
  const t0 = Date.now()
  if (event === 'kill' || event === 'kill-restart') fleet.signal(victim, 'SIGKILL')
  if (event === 'kill-restart') spawn(`${victim.id}-again`)
  if (event === 'term') fleet.signal(victim, 'SIGTERM')
  if (event === 'join') spawn('joiner')
  if (event === 'freeze') {
    victim.child.kill('SIGSTOP')
    await new Promise((r) => setTimeout(r, deps.sessionTimeoutMs + 3000))
    victim.child.kill('SIGCONT')
    frozen.set(victim.id, { from: t0, to: Date.now() })
  }
  return t0
}

async function kdpOutage(deps: OutageDeps, event: OutageEvent, rep: number): Promise<OutageSample> {
  const name = `outage-${event}-kdp-${rep}`
  const fleet = deps.newFleet(name)
  const names = await deps.fresh(name, PROCESSES)
  const spawn = (id: string) => void fleet.spawn(deps.kdpConfig(id, names))
  for (let i = 1; i <= 3; i++) spawn(`kdp${i}`)
  await deps.waitUntil(() => fleet.kdpStable(PROCESSES, PROCESSES, 2000), 120_000, '3 kdp nodes')
  const victim = fleet.nodes.get(`kdp${(rep % 3) + 1}`)!
  const share = event === 'join' ? 0 : fleet.processesOn(victim.id).length
  const frozen = new Map<string, Window>()
  const t0 = await inject(deps, fleet, event, victim, spawn, frozen)
  await deps.waitUntil(
    () => fleet.kdpStable(PROCESSES, PROCESSES, 3000),
    120_000,
    `kdp stable after ${event}`,
  )
  const now = Date.now()
  const lives = fleet.intervals.map((i) => ({
    unit: i.k,
    node: i.node,
    start: i.start,
    end: i.end ?? Infinity,
  }))
  const { maxDown, downMs } = downOf(lives, frozen, PROCESSES, t0, now)
  await deps.closeFleet(fleet)
  return { event, kind: 'kdp', share, maxDown, downMs }
}

async function kafkajsOutage(deps: OutageDeps, event: OutageEvent, rep: number): Promise<OutageSample> {
  const name = `outage-${event}-kafkajs-${rep}`
  const fleet = deps.newFleet(name)
  const names = await deps.fresh(name, PROCESSES)
  const spawn = (id: string) => void fleet.spawn(deps.kafkajsConfig(id, names))
  for (let i = 1; i <= 3; i++) spawn(`kafkajs${i}`)
  await deps.waitUntil(() => fleet.kafkajsStable(PROCESSES, 2000), 120_000, '3 kafkajs consumers')
  const victim = fleet.nodes.get(`kafkajs${(rep % 3) + 1}`)!
  const share = event === 'join' ? 0 : (fleet.joins.get(victim.id)?.partitions.length ?? 0)
  const frozen = new Map<string, Window>()
  const t0 = await inject(deps, fleet, event, victim, spawn, frozen)
  await deps.waitUntil(
    () => fleet.kafkajsStable(PROCESSES, 3000, t0),
    120_000,
    `kafkajs stable after ${event}`,
  )
  const now = Date.now()
  const lives = fleet.assignments.flatMap((a) =>
    a.partitions.map((unit) => ({ unit, node: a.node, start: a.start, end: a.end ?? Infinity })),
  )
  const { maxDown, downMs } = downOf(lives, frozen, PROCESSES, t0, now)
  await deps.closeFleet(fleet)
  return { event, kind: 'kafkajs', share, maxDown, downMs }
}

/** Every event `reps` times for both; the medians and the samples. */
export async function outageBenchmark(deps: OutageDeps, reps: number) {
  const samples: OutageSample[] = []
  for (const event of outageEvents) {
    for (let rep = 0; rep < reps; rep++) {
      for (const run of [kdpOutage, kafkajsOutage]) {
        const sample = await run(deps, event, rep)
        deps.log(
          `outage ${event} ${rep + 1}/${reps} ${sample.kind}: ${sample.maxDown} of ${PROCESSES} down at once (node share ${sample.share}), some down for ${sample.downMs} ms`,
        )
        samples.push(sample)
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const summary = outageEvents.map((event) => {
    const of = (kind: 'kdp' | 'kafkajs') => samples.filter((s) => s.event === event && s.kind === kind)
    return {
      event,
      kdpMaxDownMedian: median(of('kdp').map((s) => s.maxDown)),
      kdpShareMedian: median(of('kdp').map((s) => s.share)),
      kafkajsMaxDownMedian: median(of('kafkajs').map((s) => s.maxDown)),
      kdpDownMsMedian: median(of('kdp').map((s) => s.downMs)),
      kafkajsDownMsMedian: median(of('kafkajs').map((s) => s.downMs)),
    }
  })
  return { benchmark: 'outage' as const, processes: PROCESSES, summary, samples }
}
