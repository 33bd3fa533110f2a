// In-process archiving nodes for the scaler's tests, on the suite's real broker (and moto for AWS).
import { afterEach, inject } from 'vitest'
import { connectKafka, type Tail } from '../../../src/kafka/index.js'
import {
  type ArchiverNode,
  type ArchiverNodeOptions,
  startArchiverNode,
} from '../../../src/processes/archiverNode.js'
import type { ArchiverFactory } from '../../../src/processes/archiverSet.js'
import { silentLogger } from '../../../src/util/logging.js'
import { sleep } from '../../../src/util/sleep.js'

export const brokers = inject('kafkaBrokers').split(',')
export const token = 'scaler-test-token'
export const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

const running: ArchiverNode[] = []
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop().catch(() => {})))
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
})

/** Stand-in archivers that never read: their topic's committed lag is everything produced. */
export const idleArchivers: ArchiverFactory = () => async (ctx) => {
  while (!ctx.signal.aborted) await sleep(1000, ctx.signal)
}

export async function startNode(
  cluster: string,
  nodeId: string,
  extra: Partial<ArchiverNodeOptions> = {},
): Promise<ArchiverNode> {
  const node = await startArchiverNode({
    brokers,
    cluster,
    nodeId,
    include: ['none-such'],
    defaultSinks: [],
    http: { token },
    archiver: idleArchivers,
    statusIntervalMs: 500,
    discoveryIntervalMs: 1000,
    partitions: 16,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxStopMs: 1000,
    leaseMarginMs: 500,
    logger: silentLogger,
    ...extra,
  })
  running.push(node)
  return node
}

/** Stops a node started by startNode (and forgets it). */
export async function stopNode(node: ArchiverNode): Promise<void> {
  running.splice(running.indexOf(node), 1)
  await node.stop()
}

export interface ClusterEventRecord {
  readonly type: string
  readonly nodeId: string
  readonly [field: string]: unknown
}

/** Follows the events topic of a cluster from its beginning; stopped after the test. */
export async function followEvents(cluster: string): Promise<ClusterEventRecord[]> {
  const client = connectKafka({ brokers, clientId: 'scaler-test-events', logger: silentLogger })
  const events: ClusterEventRecord[] = []
  await client.ensureTopic({ topic: `${cluster}-events`, partitions: 1 })
  const tail: Tail = await client.tail(`${cluster}-events`, (record) => {
    if (record.value) events.push(JSON.parse(record.value.toString('utf8')) as ClusterEventRecord)
  })
  cleanups.push(async () => {
    await tail.stop()
    await client.disconnect()
  })
  return events
}

/** Produces `perSecond` records a second round-robin over the partitions until stopped. */
export function produceSteadily(
  topic: string,
  partitions: number,
  perSecond: number,
): { stop(): Promise<void> } {
  const client = connectKafka({ brokers, clientId: 'scaler-test-load', logger: silentLogger })
  let stopped = false
  const loop = (async () => {
    let seq = 0
    while (!stopped) {
      const batch = Array.from({ length: Math.max(1, Math.round(perSecond / 4)) }, () => ({
        key: String(seq % partitions),
        value: JSON.stringify({ seq: seq++ }),
      }))
      await client.sendBatch(topic, batch).catch(() => {})
      await sleep(250)
    }
  })()
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopped = true
    stopping ??= loop.then(() => client.disconnect())
    return stopping
  }
  cleanups.push(stop)
  return { stop }
}

export async function putJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'PUT', headers: auth, body: JSON.stringify(body) })
}
