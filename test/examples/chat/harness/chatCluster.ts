// Controller for the chat tests: chat nodes as OS processes (tsx), failures injected with signals,
// shard placement read from each node's own HTTP API.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ChatNodeConfig } from '../../../../examples/chat/node.js'
import type { ShardStatus } from '../../../../examples/chat/status.js'

const script = new URL('./chat-node.ts', import.meta.url).pathname

export interface ChatTestNode {
  readonly id: string
  child: ChildProcess
  http: string
  exited: boolean
  frozen: boolean
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class ChatCluster {
  readonly nodes = new Map<string, ChatTestNode>()
  #starts = 0

  constructor(
    readonly config: Omit<ChatNodeConfig, 'nodeId'>,
    readonly logDir: string,
  ) {}

  /** Nodes that are running and not frozen, by id (so that a seeded pick does not depend on start order). */
  get responsive(): ChatTestNode[] {
    return [...this.nodes.values()]
      .filter((n) => !n.exited && !n.frozen)
      .sort((a, b) => a.id.localeCompare(b.id))
  }

  async #spawn(id: string): Promise<{ child: ChildProcess; http: string }> {
    const log = createWriteStream(join(this.logDir, `${id}-${++this.#starts}.log`))
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, KDP_TEST_CHAT_NODE: JSON.stringify({ ...this.config, nodeId: id }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stderr?.pipe(log)
    const http = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('"ready"')) resolve((JSON.parse(line) as { http: string }).http)
      })
      child.once('exit', (code, signal) =>
        reject(
          new Error(`chat node ${id} exited (${code ?? signal}) before it was ready; logs in ${this.logDir}`),
        ),
      )
    })
    return { child, http }
  }

  /** Starts node `id` (again, if it exists and has exited); resolves once it serves HTTP. */
  async start(id: string): Promise<ChatTestNode> {
    const existing = this.nodes.get(id)
    if (existing && !existing.exited) throw new Error(`node ${id} is still running`)
    const { child, http } = await this.#spawn(id)
    const node: ChatTestNode = existing ?? { id, child, http, exited: false, frozen: false }
    Object.assign(node, { child, http, exited: false, frozen: false })
    child.once('exit', () => {
      if (node.child === child) node.exited = true
    })
    this.nodes.set(id, node)
    return node
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(node: ChatTestNode): Promise<void> {
    if (node.exited) return
    const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()))
    node.child.kill('SIGKILL')
    await exited
    node.frozen = false
  }

  /** SIGTERM (graceful: the node hands its shards over); resolves with the exit code. */
  async terminate(node: ChatTestNode): Promise<number | null> {
    if (node.exited) return node.child.exitCode
    const exited = new Promise<number | null>((resolve) => node.child.once('exit', (code) => resolve(code)))
    node.child.kill('SIGTERM')
    return exited
  }

  /** SIGSTOP for `ms`, then SIGCONT. */
  async freeze(node: ChatTestNode, ms: number): Promise<void> {
    node.frozen = true
    node.child.kill('SIGSTOP')
    await sleep(ms)
    node.child.kill('SIGCONT')
    node.frozen = false
  }

  /** Every shard instance each responsive node reports (nodes that do not answer are left out). */
  async shards(): Promise<Array<ShardStatus & { node: string }>> {
    const all = await Promise.all(
      this.responsive.map(async (node) => {
        try {
          const res = await fetch(`${node.http}/shards`, { signal: AbortSignal.timeout(2000) })
          const body = (await res.json()) as { shards: ShardStatus[] }
          return body.shards.map((s) => ({ ...s, node: node.id }))
        } catch {
          return []
        }
      }),
    )
    return all.flat()
  }

  /** Resolves once every shard 0..n−1 is `running` on exactly one node. */
  async allRunning(shards: number, timeoutMs = 60_000): Promise<Map<number, string>> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      const list = await this.shards()
      const running = list.filter((s) => s.phase === 'running')
      const placement = new Map(running.map((s) => [s.shard, s.node]))
      if (placement.size === shards && running.length === shards) return placement
      last = JSON.stringify(list.map((s) => [s.shard, s.node, s.phase]))
      await sleep(300)
    }
    throw new Error(`not every shard is running after ${timeoutMs} ms: ${last}; logs in ${this.logDir}`)
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.nodes.values()].map(async (node) => {
        if (node.exited) return
        node.child.kill('SIGCONT')
        await this.kill(node)
      }),
    )
  }
}
