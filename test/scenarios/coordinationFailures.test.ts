// The at-most-one guarantee and availability under single-node events, every node a separate OS
// process, against a real broker of this file's own. Safety is checked by intervals (journal.ts);
// availability as counts: an event takes down at most the processes of the node it touched (plus a
// small slack for the ones a rebalance must move), never those of the healthy nodes.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { monotonicMs } from '../../src/coordination/lease.js'
import { uniqueName } from '../helpers/names.js'
import { type ClusterConfig, TestCluster, type TestNode } from './harness/coordinationCluster.js'

const timings = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxStopMs: 1000, leaseMarginMs: 500 }
const PROCESSES = 40
const PARTITIONS = 20
/** Two partitions' worth of processes: what one rebalance may move besides the touched node's share. */
const SLACK = 2 * (PROCESSES / PARTITIONS)

let kafka: KafkaCluster
let cluster: TestCluster | undefined

beforeAll(async () => {
  kafka = await startKafka()
})
afterEach(async () => {
  await cluster?.stopAll()
  cluster = undefined
})
afterAll(async () => {
  await kafka?.stop()
})

function newCluster(brokers: readonly string[], overrides: Partial<ClusterConfig> = {}): TestCluster {
  return new TestCluster({
    brokers: [...brokers],
    dir: mkdtempSync(join(tmpdir(), 'kdp-scenario-')),
    group: uniqueName('group'),
    topic: uniqueName('tech'),
    partitions: PARTITIONS,
    processes: PROCESSES,
    stepMs: 100,
    ...timings,
    ...overrides,
  })
}

function expectNoOverlaps(c: TestCluster): void {
  expect(c.violations(), `overlaps (node logs in ${c.config.dir})`).toEqual([])
}

/** From `from` until now: no more processes down at once than `touched` ran at `from`, plus the slack. */
function expectDownAtMost(c: TestCluster, what: string, from: number, touched: TestNode): number {
  // What it ran just before the event (a kill ends its instances at the kill itself).
  const share = c.shareOf(touched.id, from - 1).length
  const down = c.downAtOnce(from)
  expect(
    down.count,
    `${what}: ${down.count} processes down at once (${down.down.join(',')}), ${touched.id} ran ${share} (logs in ${c.config.dir})`,
  ).toBeLessThanOrEqual(share + SLACK)
  return down.count
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function threeNodes(): Promise<TestCluster> {
  const c = newCluster(kafka.brokers)
  cluster = c
  for (let i = 0; i < 3; i++) await c.add()
  await c.converged()
  return c
}

describe("single-node events take down at most that node's processes", () => {
  it('a joining node: balanced placement, processes that stay are not restarted', {
    timeout: 240_000,
  }, async () => {
    const c = await threeNodes()
    const before = await c.converged()
    const joinedAt = monotonicMs()
    const joiner = await c.add()
    const after = await c.converged()
    const starts = c.startsSince(joinedAt)
    const moved = [...after].filter(([p, node]) => before.get(p) !== node).map(([p]) => p)
    const stayed = [...after].filter(([p, node]) => before.get(p) === node).map(([p]) => p)
    expect(moved.length).toBeGreaterThan(0)
    expect(new Set(after.values()).size).toBe(4)
    for (const p of stayed) expect(starts.get(p) ?? 0, `process ${p} stayed but restarted`).toBe(0)
    for (const p of moved) expect(starts.get(p), `process ${p} moved`).toBe(1)
    // What the joiner takes over is down while it moves; nothing else.
    expect(c.downAtOnce(joinedAt).count).toBeLessThanOrEqual(moved.length)
    expect(moved.every((p) => after.get(p) === joiner.id)).toBe(true)
    expectNoOverlaps(c)
  })

  it('graceful leave (SIGTERM): only its processes move', { timeout: 240_000 }, async () => {
    const c = await threeNodes()
    const leaving = c.alive[0]!
    const at = monotonicMs()
    await c.terminate(leaving)
    const after = await c.converged()
    expect([...after.values()]).not.toContain(leaving.id)
    expectDownAtMost(c, 'graceful leave', at, leaving)
    expectNoOverlaps(c)
  })

  it('kill -9: its processes run elsewhere after the session timeout, the others keep running', {
    timeout: 240_000,
  }, async () => {
    const c = await threeNodes()
    const victim = c.alive[0]!
    const at = await c.kill(victim)
    const after = await c.converged()
    expect([...after.values()]).not.toContain(victim.id)
    expectDownAtMost(c, 'kill -9', at, victim)
    expectNoOverlaps(c)
  })

  it('kill -9 and an immediate restart (systemd, Kubernetes): no outage of the healthy nodes', {
    timeout: 240_000,
  }, async () => {
    const c = await threeNodes()
    for (let round = 0; round < 2; round++) {
      const victim = c.alive[0]!
      const at = await c.kill(victim)
      await c.add()
      await c.converged()
      expectDownAtMost(c, `kill -9 + restart, round ${round + 1}`, at, victim)
    }
    expectNoOverlaps(c)
  })

  it('SIGSTOP past the session timeout during a rebalance, then SIGCONT', { timeout: 240_000 }, async () => {
    const c = await threeNodes()
    const frozen = c.alive[0]!
    const at = monotonicMs()
    // A join starts a rebalance; the freeze lands in it.
    const joining = c.add()
    await sleep(200)
    await c.freeze(frozen, timings.sessionTimeoutMs + 3000)
    await joining
    await c.converged()
    // The frozen node's processes went down (and the joiner's share moved); nobody else's.
    const share = c.shareOf(frozen.id, at - 1).length
    expect(c.downAtOnce(at).count).toBeLessThanOrEqual(share + PROCESSES / 4 + SLACK)
    expectNoOverlaps(c)
  })
})

describe('the broker and the group', () => {
  it('broker kill and restart: everything stops while the coordinator is gone, then runs once again', {
    timeout: 300_000,
  }, async () => {
    const c = newCluster(kafka.brokers)
    cluster = c
    for (let i = 0; i < 3; i++) await c.add()
    await c.converged()
    await kafka.kill(0)
    await sleep(timings.sessionTimeoutMs + 2000)
    const quietFrom = monotonicMs() - 1000
    await kafka.restart(0)
    // With no coordinator no lease is renewed, so no step may happen for long after the kill.
    const duringOutage = c
      .journal()
      .filter((e) => e.kind === 'STEP' && e.at > quietFrom - 2000 && e.at < quietFrom)
    expect(duringOutage.length).toBe(0)
    await c.converged(120_000)
    expectNoOverlaps(c)
  })
})

describe('a randomized sequence', () => {
  it('of 12 joins, leaves, kills (some restarted at once) and freezes', { timeout: 480_000 }, async () => {
    const seed = Number(process.env.KDP_SCENARIO_SEED ?? Date.now() % 1_000_000)
    console.log(`randomized scenario seed ${seed} (KDP_SCENARIO_SEED=${seed} repeats it)`)
    let state = seed
    const random = (): number => {
      state = (state * 1664525 + 1013904223) >>> 0
      return state / 2 ** 32
    }
    const c = newCluster(kafka.brokers)
    cluster = c
    for (let i = 0; i < 3; i++) await c.add()
    await c.converged()
    const events: string[] = []
    for (let i = 0; i < 12; i++) {
      const running = c.running
      const target = running[Math.floor(random() * running.length)]!
      const roll = random()
      const at = monotonicMs()
      let what: string
      if ((roll < 0.25 && c.alive.length < 5) || running.length <= 2) {
        what = 'join'
        await c.add()
      } else if (roll < 0.45) {
        what = `terminate ${target.id}`
        await c.terminate(target)
      } else if (roll < 0.6) {
        what = `kill ${target.id}`
        await c.kill(target)
      } else if (roll < 0.8) {
        what = `kill ${target.id} + restart`
        await c.kill(target)
        await c.add()
      } else {
        const ms = timings.sessionTimeoutMs + 1000 + Math.floor(random() * 4000)
        what = `freeze ${target.id} ${ms} ms`
        await c.freeze(target, ms)
      }
      events.push(what)
      await c.converged(120_000)
      if (what !== 'join') expectDownAtMost(c, `event ${i + 1} (${what}), seed ${seed}`, at, target)
    }
    expect(events).toHaveLength(12)
    expectNoOverlaps(c)
  })
})
