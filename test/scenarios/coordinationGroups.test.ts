// Nodes that disagree on the process list or the partition count, and fencing tokens across a full
// stop after which the broker deleted the group: against a real broker of this file's own (its
// offsets retention check runs every second, so an empty group goes quickly).
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { generationsPerEpoch } from '../../src/coordination/memberProtocol.js'
import { eventually, uniqueName } from '../helpers/names.js'
import { type ClusterConfig, TestCluster } from './harness/coordinationCluster.js'

const timings = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxStopMs: 1000, leaseMarginMs: 500 }
const PROCESSES = 24
const PARTITIONS = 12

let kafka: KafkaCluster
let admin: ReturnType<Kafka['admin']>
let cluster: TestCluster | undefined

beforeAll(async () => {
  kafka = await startKafka({ config: { 'offsets.retention.check.interval.ms': 1000 } })
  admin = new Kafka({ brokers: [...kafka.brokers], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
})
afterEach(async () => {
  await cluster?.stopAll()
  cluster = undefined
})
afterAll(async () => {
  await admin?.disconnect()
  await kafka?.stop()
})

function newCluster(overrides: Partial<ClusterConfig> = {}): TestCluster {
  cluster = new TestCluster({
    brokers: [...kafka.brokers],
    dir: mkdtempSync(join(tmpdir(), 'kdp-groups-')),
    group: uniqueName('group'),
    topic: uniqueName('tech'),
    partitions: PARTITIONS,
    processes: PROCESSES,
    stepMs: 100,
    ...timings,
    ...overrides,
  })
  return cluster
}

function expectNoOverlaps(c: TestCluster): void {
  expect(c.violations(), `overlaps (node logs in ${c.config.dir})`).toEqual([])
}

function logOf(c: TestCluster, nodeId: string): string {
  return readFileSync(join(c.config.dir, `node-${nodeId}.log`), 'utf8')
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('members that disagree', () => {
  it('a node whose list has a process inserted at index 0 gets nothing and says why; a majority flip hands over with no overlap', {
    timeout: 300_000,
  }, async () => {
    const c = newCluster()
    const old1 = await c.add()
    const old2 = await c.add()
    await c.converged()
    const inserted = await c.add({ insertFirst: true })
    // A few rounds later it still runs nothing: the two old nodes keep everything.
    await sleep(timings.sessionTimeoutMs)
    const placement = await c.converged()
    expect(new Set(placement.values())).toEqual(new Set([old1.id, old2.id]))
    expect(c.journal().filter((e) => e.node === inserted.id && e.kind === 'START')).toEqual([])
    expect(logOf(c, inserted.id)).toMatch(
      /this node runs nothing: its process list \(version:inserted-first\) differs/,
    )

    // A second new node makes a tie (the old side runs everything, so it stays); the old ones leave.
    const inserted2 = await c.add({ insertFirst: true })
    await c.terminate(old1)
    const flipped = await c.converged(120_000)
    expect(new Set(flipped.values())).toEqual(new Set([inserted.id, inserted2.id]))
    expect(logOf(c, old2.id)).toMatch(/this node runs nothing/)
    expectNoOverlaps(c)
  })

  it('a node that slices by another partition count (the technical topic was grown) gets nothing', {
    timeout: 240_000,
  }, async () => {
    const c = newCluster()
    await c.add()
    await c.add()
    await c.converged()
    await admin.createPartitions({ topicPartitions: [{ topic: c.config.topic, count: PARTITIONS + 4 }] })
    const grown = await c.add({ partitions: PARTITIONS + 4 })
    await sleep(timings.sessionTimeoutMs)
    await c.converged()
    expect(c.journal().filter((e) => e.node === grown.id && e.kind === 'START')).toEqual([])
    expect(logOf(c, grown.id)).toMatch(/it slices by 16 partitions, the group by 12/)
    expectNoOverlaps(c)
  })
})

describe('fencing tokens', () => {
  it('keep growing across a full stop after which the broker deleted the group (generations restart at 1)', {
    timeout: 240_000,
  }, async () => {
    const c = newCluster()
    await c.add()
    await c.add()
    await c.converged()
    // One more round, so that the first life of the group reaches generation 2 or more.
    await c.add()
    await c.converged()
    const before = Math.max(...c.journal().map((e) => e.token))
    for (const node of c.alive) await c.terminate(node)
    await eventually('the broker deleted the empty group', async () => {
      const { groups } = await admin.listGroups()
      return groups.some((g) => g.groupId === c.config.group) ? undefined : true
    })
    const restartedAt = c.journal().length
    await c.add()
    await c.add()
    await c.converged()
    const after = c
      .journal()
      .slice(restartedAt)
      .filter((e) => e.kind === 'START')
    expect(after.length).toBeGreaterThan(0)
    // The group really started over: its generations are small again...
    expect(Math.min(...after.map((e) => e.token % generationsPerEpoch))).toBeLessThan(
      before % generationsPerEpoch,
    )
    // ...and still every token is larger than every token of its first life.
    for (const e of after) expect(e.token).toBeGreaterThan(before)
    expectNoOverlaps(c)
  })
})
