// The at-most-one guarantee under failures, with every node a separate OS process and a real broker
// of this file's own (so that it can be killed). See harness/ for the detector.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { uniqueName } from '../helpers/names.js'
import { TestCluster } from './harness/coordinationCluster.js'

const timings = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxStopMs: 1000, leaseMarginMs: 500 }

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

function newCluster(processes = 40, partitions = 16): TestCluster {
  cluster = new TestCluster({
    brokers: [...kafka.brokers],
    dir: mkdtempSync(join(tmpdir(), 'kdp-failures-')),
    group: uniqueName('group'),
    topic: uniqueName('tech'),
    partitions,
    processes,
    stepMs: 100,
    ...timings,
  })
  return cluster
}

function expectNoViolations(c: TestCluster): void {
  const violations = c.violations()
  expect(violations, `violations (node logs in ${c.config.dir})`).toEqual([])
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('at most one instance of each process, every node a separate OS process', () => {
  it('joining nodes: balanced placement, and processes that stay are not restarted', {
    timeout: 240_000,
  }, async () => {
    const c = newCluster()
    for (let i = 0; i < 3; i++) await c.add()
    const before = await c.converged()
    const beforeJoin = Date.now()
    await c.add()
    const after = await c.converged()
    const starts = c.startsSince(beforeJoin)
    const moved = [...after].filter(([p, node]) => before.get(p) !== node).map(([p]) => p)
    const stayed = [...after].filter(([p, node]) => before.get(p) === node).map(([p]) => p)
    expect(moved.length).toBeGreaterThan(0)
    expect(new Set(after.values()).size).toBe(4)
    for (const p of stayed) expect(starts.get(p) ?? 0, `process ${p} stayed but restarted`).toBe(0)
    for (const p of moved) expect(starts.get(p), `process ${p} moved`).toBe(1)
    expectNoViolations(c)
  })

  it('graceful leave (SIGTERM): its processes move to the others', { timeout: 240_000 }, async () => {
    const c = newCluster()
    for (let i = 0; i < 3; i++) await c.add()
    await c.converged()
    const [leaving] = c.alive
    await c.terminate(leaving!)
    const after = await c.converged()
    expect([...after.values()]).not.toContain(leaving!.id)
    expectNoViolations(c)
  })

  it('kill -9: its processes run elsewhere after the session timeout', { timeout: 240_000 }, async () => {
    const c = newCluster()
    for (let i = 0; i < 3; i++) await c.add()
    await c.converged()
    const [victim] = c.alive
    await c.kill(victim!)
    const after = await c.converged()
    expect([...after.values()]).not.toContain(victim!.id)
    expectNoViolations(c)
  })

  it('SIGSTOP past the session timeout, then SIGCONT: the frozen node takes no step of what it lost', {
    timeout: 240_000,
  }, async () => {
    const c = newCluster()
    for (let i = 0; i < 3; i++) await c.add()
    const before = await c.converged()
    const [frozen] = c.alive
    const lost = [...before].filter(([, node]) => node === frozen!.id).map(([p]) => p)
    await c.freeze(frozen!, timings.sessionTimeoutMs + 3000)
    const resumedAt = Date.now()
    await c.converged()
    // Whatever it ran before, its own steps after resuming carry the tokens it had: the zombie rule
    // in violations() catches any of them that lands after the new owner's first step.
    const lateSteps = c
      .journal()
      .filter(
        (e) => e.kind === 'STEP' && e.node === frozen!.id && e.at >= resumedAt && lost.includes(e.process),
      )
      .filter((e) =>
        c
          .journal()
          .some(
            (o) =>
              o.kind === 'START' && o.process === e.process && o.node !== frozen!.id && o.token > e.token,
          ),
      )
    expect(lateSteps.map((e) => e.raw)).toEqual([])
    expectNoViolations(c)
  })

  it('broker kill and restart: everything stops while the coordinator is gone, then runs once again', {
    timeout: 300_000,
  }, async () => {
    const c = newCluster()
    for (let i = 0; i < 3; i++) await c.add()
    await c.converged()
    await kafka.kill(0)
    await sleep(timings.sessionTimeoutMs + 2000)
    const quietFrom = Date.now() - 1000
    await kafka.restart(0)
    // With no coordinator no lease is renewed, so no step may happen for long after the kill.
    const duringOutage = c
      .journal()
      .filter((e) => e.kind === 'STEP' && e.at > quietFrom - 2000 && e.at < quietFrom)
    expect(duringOutage.length).toBe(0)
    await c.converged(120_000)
    expectNoViolations(c)
  })

  it('a randomized sequence of 24 joins, leaves, kills and freezes', { timeout: 400_000 }, async () => {
    const c = newCluster()
    let seed = 20261122
    const random = (): number => {
      seed = (seed * 1664525 + 1013904223) >>> 0
      return seed / 2 ** 32
    }
    for (let i = 0; i < 3; i++) await c.add()
    await c.converged()
    const freezes: Promise<void>[] = []
    const frozen = new Set<string>()
    const events: string[] = []
    for (let i = 0; i < 24; i++) {
      const alive = c.alive.filter((n) => !frozen.has(n.id))
      const roll = random()
      const target = alive[Math.floor(random() * alive.length)]!
      if ((roll < 0.3 && c.alive.length < 5) || alive.length <= 2) {
        events.push('join')
        await c.add()
      } else if (roll < 0.5) {
        events.push(`terminate ${target.id}`)
        await c.terminate(target)
      } else if (roll < 0.7) {
        events.push(`kill ${target.id}`)
        await c.kill(target)
      } else {
        const ms = 2000 + Math.floor(random() * 8000)
        events.push(`freeze ${target.id} ${ms}ms`)
        frozen.add(target.id)
        freezes.push(c.freeze(target, ms).then(() => void frozen.delete(target.id)))
      }
      await sleep(500 + Math.floor(random() * 2500))
    }
    await Promise.all(freezes)
    if (c.alive.length === 0) await c.add()
    await c.converged(120_000)
    expect(events.length).toBe(24)
    expectNoViolations(c)
  })
})
