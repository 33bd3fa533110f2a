// The controller's view of its node processes: spawns them from compiled JS, reads their event
// lines, and keeps what each one runs (kdp) or was assigned (kafkajs) with the nodes' own timestamps.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { configVariable, type NodeConfig, type NodeEvent } from './protocol.js'

export interface BenchNode {
  readonly id: string
  readonly kind: NodeConfig['kind']
  readonly child: ChildProcess
  readonly pid: number
  /** Controller `Date.now()` right before the spawn. */
  readonly spawnedAt: number
  /** Node time when its modules were loaded. */
  loadedAt: number | undefined
  /** Node time when it joined (kdp: `start()` resolved; kafkajs: first GROUP_JOIN). */
  readyAt: number | undefined
  /** Controller `Date.now()` right before a signal was sent; the node no longer counts as alive. */
  signalledAt: number | undefined
  exitedAt: number | undefined
  readonly exited: Promise<void>
}

export interface Interval {
  readonly k: number
  readonly node: string
  readonly start: number
  end: number | undefined
}

export interface Join {
  readonly partitions: readonly number[]
  readonly at: number
}

const buildDir = new URL('../../dist/bench/bench/coordination', import.meta.url).pathname
const scripts = { kdp: join(buildDir, 'kdpNode.js'), kafkajs: join(buildDir, 'kafkajsMember.js') }
const kafkajsIdleFix = join(buildDir, 'kafkajsIdleFix.js')

export interface SpawnOptions {
  /** Preload the fix of kafkajs's idle timer loop (see kafkajsIdleFix.ts). */
  readonly kafkajsIdleFix?: boolean
}

export class Fleet {
  readonly nodes = new Map<string, BenchNode>()
  /** kdp: process → node → start time of the instance running there now. */
  readonly running = new Map<number, Map<string, number>>()
  readonly intervals: Interval[] = []
  /** kafkajs: node → its latest assignment. */
  readonly joins = new Map<string, Join>()
  /** kafkajs: each assignment a member held, from its join to its next rebalance (or death). */
  readonly assignments: Array<{
    node: string
    partitions: readonly number[]
    start: number
    end: number | undefined
  }> = []
  /** Node timestamp of the latest start, stop or join. */
  lastChangeAt = 0
  /** Controller time when the latest start, stop or join arrived. */
  lastChangeReceivedAt = 0

  constructor(private readonly logDir: string) {}

  spawn(config: NodeConfig, options: SpawnOptions = {}): BenchNode {
    const log = createWriteStream(join(this.logDir, `${config.nodeId}.log`), { flags: 'a' })
    const spawnedAt = Date.now()
    const preload = options.kafkajsIdleFix ? ['--import', kafkajsIdleFix] : []
    const child = spawn(process.execPath, [...preload, scripts[config.kind]], {
      env: { ...process.env, [configVariable]: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    if (child.pid === undefined) throw new Error(`could not spawn node ${config.nodeId}`)
    child.stderr?.pipe(log)
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const node: BenchNode = {
      id: config.nodeId,
      kind: config.kind,
      child,
      pid: child.pid,
      spawnedAt,
      loadedAt: undefined,
      readyAt: undefined,
      signalledAt: undefined,
      exitedAt: undefined,
      exited,
    }
    this.nodes.set(node.id, node)
    void exited.then(() => this.#exited(node))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) {
        log.write(`stdout: ${line}\n`)
        return
      }
      this.#event(node, JSON.parse(line) as NodeEvent)
    })
    return node
  }

  /** Nodes that are running and were not signalled. */
  alive(kind?: NodeConfig['kind']): BenchNode[] {
    return [...this.nodes.values()].filter(
      (n) =>
        n.exitedAt === undefined && n.signalledAt === undefined && (kind === undefined || n.kind === kind),
    )
  }

  /** Sends `signal`; returns the controller time right before it was sent. */
  signal(node: BenchNode, signal: NodeJS.Signals): number {
    const at = Date.now()
    node.signalledAt = at
    node.child.kill(signal)
    return at
  }

  /** kdp: the processes running on `nodeId` now. */
  processesOn(nodeId: string): number[] {
    const result: number[] = []
    for (const [k, nodes] of this.running) if (nodes.has(nodeId)) result.push(k)
    return result.sort((a, b) => a - b)
  }

  /** kdp: pairs of instances of one process whose lifetimes overlap (must be 0). */
  overlaps(): string[] {
    const byProcess = new Map<number, Interval[]>()
    for (const i of this.intervals) byProcess.set(i.k, [...(byProcess.get(i.k) ?? []), i])
    const found: string[] = []
    for (const [k, list] of byProcess) {
      list.sort((a, b) => a.start - b.start)
      for (let i = 1; i < list.length; i++) {
        const previous = list[i - 1]!
        const current = list[i]!
        if (current.start < (previous.end ?? Number.POSITIVE_INFINITY))
          found.push(
            `process ${k}: ${previous.node} [${previous.start}, ${previous.end}) and ${current.node} from ${current.start}`,
          )
      }
    }
    return found
  }

  /**
   * kdp: every process runs exactly once, on an alive node; every alive node runs a balanced share
   * of the partitions (floor or ceil of partitions / nodes); nothing changed for `quietMs`.
   */
  kdpStable(processes: number, partitions: number, quietMs: number): boolean {
    if (Date.now() - this.lastChangeReceivedAt < quietMs) return false
    const alive = this.alive('kdp')
    const aliveIds = new Set(alive.map((n) => n.id))
    const partitionsOf = new Map<string, Set<number>>(alive.map((n) => [n.id, new Set()]))
    for (let k = 0; k < processes; k++) {
      const nodes = [...(this.running.get(k)?.keys() ?? [])]
      if (nodes.length !== 1 || !aliveIds.has(nodes[0]!)) return false
      partitionsOf.get(nodes[0]!)?.add(k % partitions)
    }
    return balanced(
      [...partitionsOf.values()].map((s) => s.size),
      Math.min(processes, partitions),
    )
  }

  /**
   * kafkajs: the alive members' latest assignments cover every partition exactly once, balanced,
   * each received after `since`, and nothing changed for `quietMs`.
   */
  kafkajsStable(partitions: number, quietMs: number, since = 0): boolean {
    if (Date.now() - this.lastChangeReceivedAt < quietMs) return false
    return this.kafkajsCovered(partitions, since, true)
  }

  /** kafkajs: every alive member has an assignment received after `since`, together covering each partition once. */
  kafkajsCovered(partitions: number, since: number, mustBalance = false): boolean {
    const alive = this.alive('kafkajs')
    const seen = new Set<number>()
    const counts: number[] = []
    for (const node of alive) {
      const join = this.joins.get(node.id)
      if (!join || join.at <= since) return false
      for (const p of join.partitions) {
        if (seen.has(p)) return false
        seen.add(p)
      }
      counts.push(join.partitions.length)
    }
    return seen.size === partitions && (!mustBalance || balanced(counts, partitions))
  }

  /** kafkajs: the latest join time of the alive members. */
  latestJoinOfAlive(): number {
    return Math.max(...this.alive('kafkajs').map((n) => this.joins.get(n.id)?.at ?? Number.NaN))
  }

  /** SIGKILLs every node still running and waits for all of them to exit. */
  async stopAll(): Promise<void> {
    const running = [...this.nodes.values()].filter((n) => n.exitedAt === undefined)
    for (const node of running) node.child.kill('SIGKILL')
    await Promise.all(running.map((n) => n.exited))
  }

  #event(node: BenchNode, event: NodeEvent): void {
    switch (event.e) {
      case 'loaded':
        node.loadedAt = event.at
        return
      case 'ready':
        node.readyAt = event.at
        return
      case 'start': {
        const nodes = this.running.get(event.k) ?? new Map<string, number>()
        nodes.set(node.id, event.at)
        this.running.set(event.k, nodes)
        this.intervals.push({ k: event.k, node: node.id, start: event.at, end: undefined })
        break
      }
      case 'stop': {
        this.running.get(event.k)?.delete(node.id)
        this.#close(node.id, event.at, event.k)
        break
      }
      case 'join':
        this.joins.set(node.id, { partitions: event.partitions, at: event.at })
        this.#closeAssignment(node.id, event.at)
        this.assignments.push({
          node: node.id,
          partitions: event.partitions,
          start: event.at,
          end: undefined,
        })
        break
      case 'rebalancing':
        this.#closeAssignment(node.id, event.at)
        break
    }
    this.lastChangeAt = Math.max(this.lastChangeAt, event.at)
    this.lastChangeReceivedAt = Date.now()
  }

  #exited(node: BenchNode): void {
    node.exitedAt = Date.now()
    // A killed node's processes died with it, at the latest when the signal was sent.
    const end = node.signalledAt ?? node.exitedAt
    for (const nodes of this.running.values()) nodes.delete(node.id)
    this.#close(node.id, end)
    this.#closeAssignment(node.id, end)
    this.joins.delete(node.id)
  }

  #closeAssignment(nodeId: string, at: number): void {
    for (const a of this.assignments) if (a.node === nodeId && a.end === undefined) a.end = at
  }

  #close(nodeId: string, at: number, k?: number): void {
    for (const i of this.intervals)
      if (i.node === nodeId && i.end === undefined && (k === undefined || i.k === k)) i.end = at
  }
}

/** Each share is floor or ceil of total / members. */
function balanced(shares: readonly number[], total: number): boolean {
  if (shares.length === 0) return false
  const low = Math.floor(total / shares.length)
  const high = Math.ceil(total / shares.length)
  return shares.every((s) => s >= low && s <= high) && shares.reduce((a, b) => a + b, 0) === total
}

/** Polls `condition` every 25 ms; rejects with `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
