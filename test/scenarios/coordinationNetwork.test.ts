// The guarantee when the network between nodes and brokers misbehaves: a 3-broker cluster that
// loses the group coordinator's broker while partition leaders move, and a TCP proxy per node that
// delays its traffic close to the lease, drops its connections, or half-opens them.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { monotonicMs } from '../../src/coordination/lease.js'
import { uniqueName } from '../helpers/names.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js'
import { type ClusterConfig, TestCluster } from './harness/coordinationCluster.js'

const timings = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxStopMs: 1000, leaseMarginMs: 500 }
const leaseMs = timings.sessionTimeoutMs - timings.maxStopMs - timings.leaseMarginMs
const PROCESSES = 30
const PARTITIONS = 15
const SLACK = 2 * (PROCESSES / PARTITIONS)

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
})

function newCluster(brokers: readonly string[], overrides: Partial<ClusterConfig> = {}): TestCluster {
  const c = new TestCluster({
    brokers: [...brokers],
    dir: mkdtempSync(join(tmpdir(), 'kdp-network-')),
    group: uniqueName('group'),
    topic: uniqueName('tech'),
    partitions: PARTITIONS,
    processes: PROCESSES,
    stepMs: 100,
    ...timings,
    ...overrides,
  })
  cleanups.push(() => c.stopAll())
  return c
}

function expectNoOverlaps(c: TestCluster): void {
  expect(c.violations(), `overlaps (node logs in ${c.config.dir})`).toEqual([])
}

/** Java's String.hashCode, which Kafka uses to place a group's offsets (and so its coordinator). */
function javaHash(text: string): number {
  let hash = 0
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0
  return hash
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('a 3-broker cluster', () => {
  it('loses the broker of the group coordinator while partition leaders move: no overlap, all run again', {
    timeout: 300_000,
  }, async () => {
    const kafka: KafkaCluster = await startKafka({ brokers: 3 })
    cleanups.push(() => kafka.stop())
    const c = newCluster(kafka.brokers)
    for (let i = 0; i < 3; i++) await c.add()
    await c.converged()
    const admin = new Kafka({ brokers: [...kafka.brokers], logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] })
    await admin.disconnect()
    const offsetsPartitions = topics[0]!.partitions
    const partition = Math.abs(javaHash(c.config.group)) % offsetsPartitions.length
    const coordinator = offsetsPartitions.find((p) => p.partitionId === partition)!.leader
    const at = monotonicMs()
    await kafka.kill(coordinator - 1)
    await c.converged(120_000)
    const down = c.downAtOnce(at)
    console.log(
      `coordinator broker ${coordinator} killed: at most ${down.count} of ${PROCESSES} processes down at once`,
    )
    expectNoOverlaps(c)
    await kafka.restart(coordinator - 1)
    await c.converged(120_000)
    expectNoOverlaps(c)
  })
})

describe('a TCP proxy between each node and the broker', () => {
  async function proxiedCluster(): Promise<{ c: TestCluster; proxies: TcpProxy[] }> {
    const proxies = await Promise.all([0, 1, 2].map(() => startTcpProxy()))
    const names = proxies.map((_, i) => `NODE${i}`)
    const kafka = await startKafka({
      extraListeners: proxies.map((proxy, i) => ({ name: names[i]!, advertisedPorts: [proxy.port] })),
    })
    cleanups.push(() => kafka.stop())
    for (const [i, proxy] of proxies.entries()) {
      proxy.setTarget(kafka.listenerPorts[names[i]!]![0]!)
      cleanups.push(() => proxy.close())
    }
    const c = newCluster(kafka.brokers)
    for (const proxy of proxies) await c.add({ brokers: [`127.0.0.1:${proxy.port}`] })
    await c.converged()
    return { c, proxies }
  }

  it("delays one node's traffic close to its lease, drops it, then half-opens it: only that node's processes move", {
    timeout: 420_000,
  }, async () => {
    const { c, proxies } = await proxiedCluster()
    const node = c.alive[0]!
    const proxy = proxies[0]!
    // A round trip just under the lease: renewals arrive late; the node may keep or lose its lease.
    let at = monotonicMs()
    proxy.delay(Math.floor(leaseMs / 2) - 300)
    await sleep(timings.sessionTimeoutMs * 2)
    await proxy.restore()
    await c.converged(120_000)
    const share = () => c.shareOf(node.id, at - 1).length
    expect(c.downAtOnce(at).count, 'delayed: down at once').toBeLessThanOrEqual(share() + SLACK)

    at = monotonicMs()
    await proxy.cut()
    await sleep(timings.sessionTimeoutMs + 2000)
    await proxy.restore()
    await c.converged(120_000)
    expect(c.downAtOnce(at).count, 'dropped: down at once').toBeLessThanOrEqual(share() + SLACK)

    at = monotonicMs()
    proxy.blackhole()
    await sleep(timings.sessionTimeoutMs + 3000)
    await proxy.restore()
    await c.converged(120_000)
    expect(c.downAtOnce(at).count, 'half-open: down at once').toBeLessThanOrEqual(share() + SLACK)
    expectNoOverlaps(c)
  })
})
