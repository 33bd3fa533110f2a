// The machines of an Auto Scaling group in moto, played by processes: moto keeps the group's
// instances but runs nothing, so this launcher watches the group and starts a real `kdp-archiver`
// for each InService instance (with that instance id), and stops it (SIGTERM, as a shutdown would)
// once its instance is terminated. The closed-loop test, `npm run demo -- --autoscale` and the
// scaler benchmark use it.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { type AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling'
import { repoRoot, stopChild } from './process.js'

export interface LaunchedNode {
  readonly instanceId: string
  readonly child: ChildProcess
  readonly log: string
  /** Its HTTP API, once its startup line said so. */
  address: string | undefined
  /** When the launcher started it, and when it stopped or exited (performance.now()). */
  readonly startedAt: number
  endedAt: number | undefined
}

export interface LauncherEvent {
  readonly at: number
  readonly instanceId: string
  /** `stopped`: by the launcher (its instance left the group); `exited`: on its own (started again). */
  readonly what: 'started' | 'ready' | 'stopped' | 'exited'
  readonly code?: number | null
  readonly signal?: string | null
}

export interface AsgLauncher {
  /** Nodes running now, by instance id. */
  running(): ReadonlyMap<string, LaunchedNode>
  readonly history: readonly LauncherEvent[]
  /** Stops watching, then stops every node (SIGTERM, SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>
}

export interface LauncherOptions {
  readonly client: AutoScalingClient
  readonly group: string
  /** The arguments and the whole environment of `kdp-archiver` for one instance. */
  readonly command: (instanceId: string) => {
    readonly args: readonly string[]
    readonly env: Readonly<Record<string, string>>
  }
  readonly logDir: string
  readonly pollMs?: number
  /** Called for every event (a progress line, a test's journal). */
  readonly onEvent?: (event: LauncherEvent) => void
}

export function startAsgLauncher(options: LauncherOptions): AsgLauncher {
  const nodes = new Map<string, LaunchedNode>()
  const stopping = new Map<string, Promise<void>>()
  const history: LauncherEvent[] = []
  const record = (event: Omit<LauncherEvent, 'at'>): void => {
    const full = { at: performance.now(), ...event }
    history.push(full)
    options.onEvent?.(full)
  }
  let watching = true

  const launch = (instanceId: string): void => {
    const { args, env } = options.command(instanceId)
    const log = join(options.logDir, `${instanceId}.log`)
    const out = createWriteStream(log, { flags: 'a' })
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args],
      {
        cwd: repoRoot,
        env: { ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const node: LaunchedNode = {
      instanceId,
      child,
      log,
      address: undefined,
      startedAt: performance.now(),
      endedAt: undefined,
    }
    nodes.set(instanceId, node)
    record({ instanceId, what: 'started' })
    child.stdout?.pipe(out, { end: false })
    child.stderr?.pipe(out, { end: false })
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const address = /HTTP API at (http:\/\/\S+)/.exec(line)?.[1]
        if (address !== undefined && node.address === undefined) {
          node.address = address
          record({ instanceId, what: 'ready' })
        }
      })
    }
    child.once('exit', (code, signal) => {
      node.endedAt = performance.now()
      nodes.delete(instanceId)
      if (!stopping.has(instanceId)) record({ instanceId, what: 'exited', code, signal })
      setTimeout(() => out.end(), 100)
    })
  }

  const terminate = (node: LaunchedNode, graceMs: number): Promise<void> => {
    let done = stopping.get(node.instanceId)
    if (done === undefined) {
      done = stopChild(node.child, 'SIGTERM', graceMs).then(() =>
        record({
          instanceId: node.instanceId,
          what: 'stopped',
          code: node.child.exitCode,
          signal: node.child.signalCode,
        }),
      )
      stopping.set(node.instanceId, done)
    }
    return done
  }

  const loop = (async () => {
    while (watching) {
      try {
        const answer = await options.client.send(
          new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [options.group] }),
        )
        const instances = answer.AutoScalingGroups?.[0]?.Instances ?? []
        const inService = new Set(
          instances.filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId ?? ''),
        )
        const present = new Set(
          instances
            .filter((i) => !/^(Terminat|Detach)/.test(i.LifecycleState ?? ''))
            .map((i) => i.InstanceId ?? ''),
        )
        for (const id of inService) {
          // A node that exited on its own starts again a second later, as systemd's
          // Restart=on-failure would on a real instance (the history keeps the exit).
          const exited = history.findLast((e) => e.instanceId === id && e.what === 'exited')
          if (id === '' || nodes.has(id) || stopping.has(id)) continue
          if (exited !== undefined && performance.now() - exited.at < 1000) continue
          launch(id)
        }
        for (const node of nodes.values()) if (!present.has(node.instanceId)) void terminate(node, 60_000)
      } catch {
        // The API is unreachable for a moment: look again at the next poll.
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250))
    }
  })()

  return {
    running: () => nodes,
    history,
    async stop(graceMs = 60_000) {
      watching = false
      await loop
      await Promise.all([...nodes.values()].map((n) => terminate(n, graceMs)))
      await Promise.all(stopping.values())
    },
  }
}
