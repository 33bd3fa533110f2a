// Controller for the failure scenarios: starts cluster nodes as OS processes, injects failures (and
// journals each one on the machine-wide monotonic clock), and reads the nodes' journals.
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, createWriteStream, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { monotonicMs } from '../../../src/coordination/lease.js'
import type { NodeConfig } from './coordination-node.js'
import { type InstanceEvent, maxDownAtOnce, type NodeEvent, overlaps, processesOn } from './journal.js'

export type ClusterConfig = Omit<NodeConfig, 'nodeId'>

export interface TestNode {
  readonly id: string
  readonly child: ChildProcess
  exited: boolean
  frozen: boolean
}

const nodeScript = new URL('./coordination-node.ts', import.meta.url).pathname

export class TestCluster {
  readonly #nodes = new Map<string, TestNode>()
  readonly #events: InstanceEvent[] = []
  readonly nodeEvents: NodeEvent[] = []
  readonly #offsets = new Map<string, number>()
  #counter = 0

  constructor(readonly config: ClusterConfig) {}

  get alive(): TestNode[] {
    return [...this.#nodes.values()].filter((n) => !n.exited)
  }

  /** Nodes that are alive and not frozen. */
  get running(): TestNode[] {
    return this.alive.filter((n) => !n.frozen)
  }

  #note(kind: NodeEvent['kind'], node: string): number {
    const at = monotonicMs()
    this.nodeEvents.push({ kind, node, at })
    return at
  }

  /** Starts a node (with config overrides) and resolves once it has joined the group. */
  async add(overrides: Partial<ClusterConfig> = {}): Promise<TestNode> {
    const id = `n${++this.#counter}`
    const log = createWriteStream(join(this.config.dir, `node-${id}.log`))
    const child = spawn(process.execPath, ['--import', 'tsx', nodeScript], {
      env: { ...process.env, KDP_TEST_NODE: JSON.stringify({ ...this.config, ...overrides, nodeId: id }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stderr?.pipe(log)
    const node: TestNode = { id, child, exited: false, frozen: false }
    this.#nodes.set(id, node)
    this.#note('SPAWN', id)
    child.once('exit', () => {
      node.exited = true
    })
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! })
      lines.on('line', (line) => {
        if (line.includes('"ready"')) resolve()
      })
      child.once('exit', (code, signal) =>
        reject(new Error(`node ${id} exited (${code ?? signal}) before joining; see node-${id}.log`)),
      )
    })
    return node
  }

  async #signalAndWait(node: TestNode, signal: NodeJS.Signals): Promise<void> {
    if (node.exited) return
    const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()))
    node.child.kill(signal)
    await exited
  }

  /** Graceful stop: SIGTERM, resolves when the node exited. */
  terminate(node: TestNode): Promise<void> {
    this.#note('TERM', node.id)
    return this.#signalAndWait(node, 'SIGTERM')
  }

  /** kill -9; returns the monotonic time of the kill. */
  async kill(node: TestNode): Promise<number> {
    const at = this.#note('KILL', node.id)
    await this.#signalAndWait(node, 'SIGKILL')
    return at
  }

  /** SIGSTOP for `ms`, then SIGCONT. */
  async freeze(node: TestNode, ms: number): Promise<void> {
    node.frozen = true
    this.#note('FREEZE', node.id)
    node.child.kill('SIGSTOP')
    await new Promise((r) => setTimeout(r, ms))
    node.child.kill('SIGCONT')
    this.#note('THAW', node.id)
    node.frozen = false
  }

  /** Reads what the nodes appended to their journals since the last call. */
  journal(): readonly InstanceEvent[] {
    for (const file of readdirSync(this.config.dir).filter((f) => f.startsWith('journal-'))) {
      const path = join(this.config.dir, file)
      const offset = this.#offsets.get(path) ?? 0
      const size = statSync(path).size
      if (size <= offset) continue
      const buffer = Buffer.alloc(size - offset)
      const fd = openSync(path, 'r')
      readSync(fd, buffer, 0, buffer.length, offset)
      closeSync(fd)
      const text = buffer.toString('utf8')
      const complete = text.lastIndexOf('\n') + 1
      this.#offsets.set(path, offset + Buffer.byteLength(text.slice(0, complete)))
      for (const raw of text.slice(0, complete).split('\n')) {
        if (!raw) continue
        const [kind, process, node, instance, token, at] = raw.split(' ')
        this.#events.push({
          kind: kind as InstanceEvent['kind'],
          process: Number(process),
          node: node ?? '',
          instance: instance ?? '',
          token: Number(token),
          at: Number(at),
        })
      }
    }
    return this.#events
  }

  /** Every overlap of two instances of one process, and every fencing token that did not grow. */
  violations(): string[] {
    return overlaps(
      this.journal().filter((e) => e.process < this.config.processes),
      this.nodeEvents,
    )
  }

  /** The largest number of processes down at the same moment in [from, to). */
  downAtOnce(from: number, to = monotonicMs()): { count: number; at: number; down: number[] } {
    return maxDownAtOnce(this.journal(), this.nodeEvents, this.config.processes, from, to)
  }

  /** The processes `node` ran at `at`. */
  shareOf(node: string, at: number): number[] {
    return processesOn(this.journal(), this.nodeEvents, node, at).filter((p) => p < this.config.processes)
  }

  /**
   * Resolves with process → node once every process has stepped, during the last `windowMs`, on
   * exactly one node that is alive, twice in a row `windowMs` apart.
   */
  async converged(timeoutMs = 90_000, windowMs = 2000): Promise<Map<number, string>> {
    const deadline = Date.now() + timeoutMs
    let previous: string | undefined
    let lastProblem = ''
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, windowMs))
      const now = monotonicMs()
      const alive = new Set(this.running.map((n) => n.id))
      const recent = new Map<number, Set<string>>()
      for (const e of this.journal()) {
        if (e.kind !== 'STEP' || e.at < now - windowMs) continue
        const nodes = recent.get(e.process) ?? new Set<string>()
        nodes.add(e.node)
        recent.set(e.process, nodes)
      }
      const placement = new Map<number, string>()
      lastProblem = ''
      for (let p = 0; p < this.config.processes; p++) {
        const nodes = [...(recent.get(p) ?? [])]
        if (nodes.length !== 1 || !alive.has(nodes[0]!)) {
          lastProblem = `process ${p} stepped on [${nodes.join(',')}] in the last ${windowMs} ms`
          break
        }
        placement.set(p, nodes[0]!)
      }
      if (lastProblem) {
        previous = undefined
        continue
      }
      const signature = JSON.stringify([...placement])
      if (signature === previous) return placement
      previous = signature
    }
    throw new Error(
      `cluster did not converge within ${timeoutMs} ms: ${lastProblem || 'placement kept changing'} (logs in ${this.config.dir})`,
    )
  }

  /** START entries per process since `since` (monotonic ms). */
  startsSince(since: number): Map<number, number> {
    const counts = new Map<number, number>()
    for (const e of this.journal())
      if (e.kind === 'START' && e.at >= since) counts.set(e.process, (counts.get(e.process) ?? 0) + 1)
    return counts
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.alive.map(async (node) => {
        node.child.kill('SIGCONT')
        await this.#signalAndWait(node, 'SIGKILL')
      }),
    )
  }

  /** The node logs, for a failing test's message. */
  logFiles(): string[] {
    return readdirSync(this.config.dir)
      .filter((f) => f.startsWith('node-'))
      .map((f) => join(this.config.dir, f))
      .filter((f) => existsSync(f))
  }
}
