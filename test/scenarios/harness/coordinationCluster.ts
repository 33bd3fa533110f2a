// Controller for the failure tests: starts cluster nodes as OS processes, injects failures, and reads
// their journals to find violations of the at-most-one guarantee.
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, createWriteStream, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface ClusterConfig {
  brokers: string[]
  dir: string
  group: string
  topic: string
  partitions: number
  processes: number
  stepMs: number
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  maxStopMs: number
  leaseMarginMs: number
}

export interface JournalEntry {
  kind: 'STEP' | 'START' | 'STOP' | 'VIOLATION' | 'FROZEN-HOLDER' | 'LEFT'
  process: number
  node: string
  token: number
  at: number
  raw: string
}

export interface TestNode {
  readonly id: string
  readonly child: ChildProcess
  exited: boolean
}

const nodeScript = new URL('./coordination-node.ts', import.meta.url).pathname

export class TestCluster {
  readonly #nodes = new Map<string, TestNode>()
  readonly #entries: JournalEntry[] = []
  readonly #offsets = new Map<string, number>()
  #counter = 0

  constructor(readonly config: ClusterConfig) {}

  get alive(): TestNode[] {
    return [...this.#nodes.values()].filter((n) => !n.exited)
  }

  /** Starts a node and resolves once it has joined the group. */
  async add(): Promise<TestNode> {
    const id = `n${++this.#counter}`
    const log = createWriteStream(join(this.config.dir, `node-${id}.log`))
    const child = spawn(process.execPath, ['--import', 'tsx', nodeScript], {
      env: { ...process.env, KDP_TEST_NODE: JSON.stringify({ ...this.config, nodeId: id }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stderr?.pipe(log)
    const node: TestNode = { id, child, exited: false }
    this.#nodes.set(id, node)
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
    return this.#signalAndWait(node, 'SIGTERM')
  }

  kill(node: TestNode): Promise<void> {
    return this.#signalAndWait(node, 'SIGKILL')
  }

  /** SIGSTOP for `ms`, then SIGCONT. */
  async freeze(node: TestNode, ms: number): Promise<void> {
    node.child.kill('SIGSTOP')
    await new Promise((r) => setTimeout(r, ms))
    node.child.kill('SIGCONT')
  }

  /** Reads what the nodes appended to their journals since the last call. */
  journal(): readonly JournalEntry[] {
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
        const [kind, process, node, token, at] = raw.split(' ')
        this.#entries.push({
          kind: kind as JournalEntry['kind'],
          process: Number(process),
          node: node ?? '',
          token: Number(token),
          at: Number(at),
          raw,
        })
      }
    }
    return this.#entries
  }

  /**
   * Every breach of the guarantee in the journals: a lock held by a live, running instance of the
   * same process (two at once), or a step with an older fencing token after a newer one (a zombie).
   */
  violations(): string[] {
    const entries = this.journal()
    const found = entries.filter((e) => e.kind === 'VIOLATION').map((e) => `two instances at once: ${e.raw}`)
    const steps = entries.filter((e) => e.kind === 'STEP').sort((a, b) => a.at - b.at)
    const newest = new Map<number, { token: number; node: string }>()
    for (const s of steps) {
      const seen = newest.get(s.process)
      if (seen && (s.token < seen.token || (s.token === seen.token && s.node !== seen.node))) {
        found.push(`zombie step: ${s.raw} after token ${seen.token} on ${seen.node}`)
      }
      if (!seen || s.token >= seen.token) newest.set(s.process, { token: s.token, node: s.node })
    }
    return found
  }

  /** Steps blocked by a holder frozen mid-step: the unpreventable in-flight case, reported apart. */
  frozenHolderEvents(): number {
    return this.journal().filter((e) => e.kind === 'FROZEN-HOLDER').length
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
      const now = Date.now()
      const alive = new Set(this.alive.map((n) => n.id))
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
      `cluster did not converge within ${timeoutMs} ms: ${lastProblem || 'placement kept changing'}`,
    )
  }

  /** START entries per process since `since` (ms). */
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
        await this.kill(node)
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
