// The machines of an Auto Scaling group in moto, played by processes: moto keeps the group's
// instances but runs nothing, so this launcher watches the group and starts a real `kdp-archiver`
// for each InService instance (with that instance id), and stops it (SIGTERM, as a shutdown would)
// once its instance is terminated. The closed-loop test, `npm run demo -- --autoscale` and the
// scaler benchmark use it.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import {
  type AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling'
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
  /** Node's arguments before the command's: `--import tsx src/cli/main.ts` unless told (a built `dist/…/main.js`). */
  readonly entry?: readonly string[]
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
    const entry = options.entry ?? ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')]
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: repoRoot,
      env: { ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
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

/**
 * Creates an Auto Scaling group on moto with a launch template (made through EC2's Query API: the
 * project has no EC2 client, and moto routes a form POST by the service in its SigV4 scope), its
 * new instances protected from scale-in as the scaler's docs ask.
 */
export async function createMotoGroup(
  client: AutoScalingClient,
  endpoint: string,
  name: string,
  sizes: { readonly min: number; readonly max: number; readonly desired: number },
  region = 'us-east-1',
): Promise<void> {
  const template = `${name}-lt`
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // moto checks no signature; the scope names the service. Not a credential.
      authorization: `AWS4-HMAC-SHA256 Credential=test/20250101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({
      Action: 'CreateLaunchTemplate',
      Version: '2016-11-15',
      LaunchTemplateName: template,
      'LaunchTemplateData.ImageId': 'ami-12345678',
      'LaunchTemplateData.InstanceType': 't3.micro',
    }),
  })
  if (!response.ok)
    throw new Error(`CreateLaunchTemplate failed: ${response.status} ${await response.text()}`)
  await client.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchTemplate: { LaunchTemplateName: template, Version: '$Latest' },
      MinSize: sizes.min,
      MaxSize: sizes.max,
      DesiredCapacity: sizes.desired,
      AvailabilityZones: [`${region}a`],
      NewInstancesProtectedFromScaleIn: true,
    }),
  )
}

export interface ArchiverOnMoto {
  readonly brokers: string
  readonly cluster: string
  readonly group: string
  readonly moto: string
  /** The node's default sink (`s3://…` on moto, or `file:///…`). */
  readonly sink: string
  readonly token: string
  /** `1s` in tests: how often a node publishes its status. */
  readonly statusInterval: string
  /**
   * Records a node holds at once (`--max-messages-in-flight`): a small bound gives each node a
   * capacity of its own, which adding nodes adds to even on one machine.
   */
  readonly maxMessagesInFlight: number
  /** The environment to start from (a test's, stripped of KDP_ and AWS_ variables). */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** The `kdp-archiver` of one instance of a moto group: its flags and environment. */
export function archiverOnMoto(o: ArchiverOnMoto): LauncherOptions['command'] {
  return (instanceId) => ({
    args: [
      ...['--brokers', o.brokers, '--cluster', o.cluster, '--sink', o.sink, '--include', 'none-such'],
      ...[
        '--http-port',
        '0',
        '--node-id',
        instanceId,
        '--instance-id',
        instanceId,
        '--autoscaling-group',
        o.group,
      ],
      ...['--max-messages-in-flight', String(o.maxMessagesInFlight), '--no-progress'],
    ],
    env: {
      ...Object.fromEntries(Object.entries(o.env).flatMap(([k, v]) => (v === undefined ? [] : [[k, v]]))),
      // The token goes through the environment: it stays out of the process list.
      KDP_TOKEN: o.token,
      KDP_STATUS_INTERVAL: o.statusInterval,
      KDP_AUTOSCALING_ENDPOINT: o.moto,
      KDP_S3_ENDPOINT: o.moto,
      KDP_S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      // moto takes any credentials: fixed test values, not secrets.
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
  })
}
