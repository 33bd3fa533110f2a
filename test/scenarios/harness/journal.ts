// The overlap detector of the failure scenarios: every instance's START, STEP and STOP and every
// injected event on one clock (CLOCK_MONOTONIC, which every process of the machine reads alike),
// checked as intervals. Pure: the scenarios feed it what the nodes and the controller journaled.

/** What a node journals for each process instance. */
export interface InstanceEvent {
  readonly kind: 'START' | 'STEP' | 'STOP'
  readonly process: number
  readonly node: string
  /** Unique per instance within its node (node + pid + counter). */
  readonly instance: string
  readonly token: number
  /** Monotonic ms. */
  readonly at: number
}

/** What the controller did to a node, at the monotonic time it did it. */
export interface NodeEvent {
  readonly kind: 'SPAWN' | 'KILL' | 'FREEZE' | 'THAW' | 'TERM'
  readonly node: string
  readonly at: number
}

/** One instance's life: from START to its end (STOP, the kill, or the freeze it never came back from). */
export interface Interval {
  readonly process: number
  readonly node: string
  readonly instance: string
  readonly token: number
  readonly start: number
  readonly end: number
  readonly steps: readonly number[]
}

interface Freeze {
  readonly from: number
  readonly to: number
}

function freezesOf(events: readonly NodeEvent[]): Map<string, Freeze[]> {
  const byNode = new Map<string, Freeze[]>()
  const open = new Map<string, number>()
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.kind === 'FREEZE') open.set(e.node, e.at)
    else if (e.kind === 'THAW' || e.kind === 'KILL') {
      const from = open.get(e.node)
      if (from === undefined) continue
      open.delete(e.node)
      const list = byNode.get(e.node) ?? []
      list.push({ from, to: e.at })
      byNode.set(e.node, list)
    }
  }
  for (const [node, from] of open) byNode.set(node, [...(byNode.get(node) ?? []), { from, to: Infinity }])
  return byNode
}

function killOf(events: readonly NodeEvent[], node: string): number {
  let at = Infinity
  for (const e of events) if (e.kind === 'KILL' && e.node === node) at = Math.min(at, e.at)
  return at
}

/**
 * Each instance's interval. A killed node's instances end at the kill. A frozen node's instance ends
 * where the freeze began if it takes no step after the freeze (it may only settle then); if it does
 * step after resuming, it was live all through the freeze.
 */
export function intervals(events: readonly InstanceEvent[], nodeEvents: readonly NodeEvent[]): Interval[] {
  const freezes = freezesOf(nodeEvents)
  const byInstance = new Map<string, InstanceEvent[]>()
  for (const e of events) {
    const key = `${e.node}/${e.instance}`
    const list = byInstance.get(key) ?? []
    list.push(e)
    byInstance.set(key, list)
  }
  const result: Interval[] = []
  for (const list of byInstance.values()) {
    list.sort((a, b) => a.at - b.at)
    const start = list.find((e) => e.kind === 'START')
    if (!start) continue
    const steps = list.filter((e) => e.kind === 'STEP').map((e) => e.at)
    const stop = list.find((e) => e.kind === 'STOP')
    let end = Math.min(stop?.at ?? Infinity, killOf(nodeEvents, start.node))
    for (const freeze of freezes.get(start.node) ?? []) {
      if (freeze.from < start.at || freeze.from >= end) continue
      if (!steps.some((t) => t > freeze.to)) end = Math.min(end, freeze.from)
    }
    result.push({
      process: start.process,
      node: start.node,
      instance: start.instance,
      token: start.token,
      start: start.at,
      end,
      steps,
    })
  }
  return result
}

function frozenAt(freezes: Map<string, Freeze[]>, node: string, at: number): boolean {
  return (freezes.get(node) ?? []).some((f) => at >= f.from && at <= f.to)
}

/**
 * Every START or STEP of an instance while another instance of the same process was live on a node
 * that was not frozen at that moment, and every instance whose fencing token is not larger than
 * that of an instance of the same process that started before it (tokens must grow per owner).
 */
export function overlaps(events: readonly InstanceEvent[], nodeEvents: readonly NodeEvent[]): string[] {
  const freezes = freezesOf(nodeEvents)
  const all = intervals(events, nodeEvents)
  const byProcess = new Map<number, Interval[]>()
  for (const i of all) byProcess.set(i.process, [...(byProcess.get(i.process) ?? []), i])
  const found: string[] = []
  for (const [process, list] of byProcess) {
    list.sort((a, b) => a.start - b.start)
    for (const a of list) {
      for (const t of [a.start, ...a.steps]) {
        for (const b of list) {
          if (b === a || !(b.start <= t && t < b.end)) continue
          if (frozenAt(freezes, b.node, t)) continue
          found.push(
            `process ${process}: ${t === a.start ? 'START' : 'STEP'} of ${a.node}/${a.instance} (token ${a.token}) at ${t.toFixed(1)} while ${b.node}/${b.instance} (token ${b.token}) was live [${b.start.toFixed(1)}, ${b.end.toFixed(1)})`,
          )
          break
        }
      }
    }
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1]!
      const after = list[i]!
      if (after.token < before.token || (after.token === before.token && after.node !== before.node))
        found.push(
          `process ${process}: token ${after.token} of ${after.node} started after token ${before.token} of ${before.node}`,
        )
    }
  }
  return found
}

/**
 * The largest number of processes that had no live instance at the same moment within [from, to),
 * among `processes` processes (each is counted down from `from` until its first instance starts if
 * none was live then).
 */
export function maxDownAtOnce(
  events: readonly InstanceEvent[],
  nodeEvents: readonly NodeEvent[],
  processes: number,
  from: number,
  to: number,
): { count: number; at: number; down: number[] } {
  const all = intervals(events, nodeEvents)
  const moments = new Set<number>([from])
  for (const i of all) {
    if (i.start >= from && i.start < to) moments.add(i.start)
    if (i.end >= from && i.end < to) moments.add(i.end)
  }
  let best = { count: -1, at: from, down: [] as number[] }
  for (const at of [...moments].sort((a, b) => a - b)) {
    const live = new Set<number>()
    for (const i of all) if (i.start <= at && at < i.end) live.add(i.process)
    const down: number[] = []
    for (let p = 0; p < processes; p++) if (!live.has(p)) down.push(p)
    if (down.length > best.count) best = { count: down.length, at, down }
  }
  return best
}

/** The processes a node ran at `at` (live instances there). */
export function processesOn(
  events: readonly InstanceEvent[],
  nodeEvents: readonly NodeEvent[],
  node: string,
  at: number,
): number[] {
  return intervals(events, nodeEvents)
    .filter((i) => i.node === node && i.start <= at && at < i.end)
    .map((i) => i.process)
    .sort((a, b) => a - b)
}
