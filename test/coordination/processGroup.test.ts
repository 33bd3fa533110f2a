// The process group's own rules, against a membership written by hand (the core's pure logic:
// what it reports, when it starts and stops slices, when it asks for a round). The real membership
// and broker are covered by the scenarios.
import { setImmediate as flushIo } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type {
  Assignment,
  GroupMembership,
  MembershipListener,
} from '../../src/coordination/groupMembership.js'
import { monotonicMs } from '../../src/coordination/lease.js'
import {
  type AssignmentNotes,
  fencingToken,
  type MemberReport,
} from '../../src/coordination/memberProtocol.js'
import type { Process } from '../../src/coordination/process.js'
import { type KeyedProcesses, ProcessGroup } from '../../src/coordination/processGroup.js'
import { resolveSettings } from '../../src/coordination/settings.js'
import { silentLogger } from '../../src/util/logging.js'

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await flushIo()
}

/** A membership driven by the test: it hands out assignments and renewals when told. */
class HandMembership implements GroupMembership {
  rounds = 0
  constructor(
    readonly report: () => MemberReport,
    readonly listener: MembershipListener,
  ) {}
  async start(): Promise<void> {}
  async requestRebalance(): Promise<void> {
    this.rounds++
  }
  async stop(): Promise<void> {}
}

const settings = resolveSettings({
  brokers: ['b:1'],
  nodeId: 'me',
  partitions: 4,
  sessionTimeoutMs: 10_000,
  maxStopMs: 200,
  leaseMarginMs: 100,
})

/** One process per partition that runs until aborted; records its starts. */
function processes(starts: string[]): KeyedProcesses {
  const byPartition = new Map<number, ReadonlyMap<string, Process>>()
  for (let p = 0; p < 4; p++) {
    const process: Process = async (ctx) => {
      starts.push(`${p}@${ctx.fencingToken}`)
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      )
    }
    byPartition.set(p, new Map([[String(p), process]]))
  }
  return {
    byPartition: (p) => byPartition.get(p) ?? new Map(),
    subscribe: () => () => {},
    fingerprint: 'test',
  }
}

const notes = (fields: Partial<AssignmentNotes> = {}): AssignmentNotes => ({
  v: 2,
  cleanAt: {},
  heldBack: [],
  epoch: 3,
  handoverMs: 0,
  mismatch: null,
  ...fields,
})

const groups: ProcessGroup[] = []
afterEach(async () => {
  await Promise.all(groups.splice(0).map((g) => g.stop()))
})

function group(): { group: ProcessGroup; membership: () => HandMembership; starts: string[] } {
  const starts: string[] = []
  let membership: HandMembership | undefined
  const g = new ProcessGroup({
    name: 'g',
    settings,
    processes: processes(starts),
    logger: silentLogger,
    onFailure: () => {},
    onFatal: () => {},
    membership: (report, listener) => {
      membership = new HandMembership(report, listener)
      return membership
    },
  })
  groups.push(g)
  return { group: g, membership: () => membership!, starts }
}

function assign(
  g: ProcessGroup,
  generation: number,
  partitions: number[],
  fields: Partial<AssignmentNotes> = {},
): void {
  const assignment: Assignment = {
    generation,
    memberId: 'm1',
    partitions,
    notes: notes(fields),
    leaseFrom: monotonicMs(),
  }
  g.onAssignment(assignment)
}

describe('ProcessGroup', () => {
  it('starts cleanly handed-over partitions at once, with (epoch, generation) as the fencing token', async () => {
    const { group: g, starts } = group()
    await g.start()
    assign(g, 5, [0, 1], { cleanAt: { '0': 4, '1': 4 } })
    await settle()
    expect(starts.sort()).toEqual([`0@${fencingToken(3, 5)}`, `1@${fencingToken(3, 5)}`])
  })

  it('does not claim a partition that only waited out its handover delay', async () => {
    const { group: g, membership } = group()
    await g.start()
    // Not clean: waits the handover delay (maxStop + margin = 300 ms).
    assign(g, 5, [2])
    expect(membership().report().live).toEqual([2])
    expect(membership().report().claims).toEqual([])
    // Taken away before the delay passed: stopped without having run, and never claimed as released.
    assign(g, 6, [])
    await settle()
    const report = membership().report()
    expect(report.live).toEqual([])
    expect(report.claims).toEqual([])
  })

  it('claims a partition that ran here and stopped (its hand-over is clean)', async () => {
    const { group: g, membership } = group()
    await g.start()
    assign(g, 5, [1], { cleanAt: { '1': 4 } })
    await settle()
    assign(g, 6, [], { heldBack: [1] })
    await settle()
    expect(membership().report().claims).toEqual([1])
  })

  it('starts nothing outside the live set of the report sent with a join, until its answer', async () => {
    const { group: g, membership, starts } = group()
    await g.start()
    assign(g, 5, [0, 3], { cleanAt: { '0': 4 } })
    await settle()
    expect(starts).toEqual([`0@${fencingToken(3, 5)}`])
    // A join goes out while 3 still waits its delay: 3 is reported live (waiting), so it may start;
    // but after the lease ran out and slices stopped, only what the report listed may start.
    g.onLost('test: coordinator gone')
    await settle()
    const report = membership().report()
    expect(report.live).toEqual([])
    // A renewal during the join (a heartbeat answered REBALANCE_IN_PROGRESS) revives the lease...
    g.onLeaseRenewed(monotonicMs(), 'stable')
    await new Promise((r) => setTimeout(r, settings.handoverDelayMs + 50))
    await settle()
    // ...yet nothing starts: the leader may be giving 0 and 3 away in this very round.
    expect(starts).toEqual([`0@${fencingToken(3, 5)}`])
    // The answer gives 0 back: it starts.
    assign(g, 6, [0], { cleanAt: { '0': 5 } })
    await settle()
    expect(starts).toEqual([`0@${fencingToken(3, 5)}`, `0@${fencingToken(3, 6)}`])
  })

  it('asks for a round once the partitions held back for others stopped here, whatever stopped them', async () => {
    const { group: g, membership } = group()
    await g.start()
    assign(g, 5, [0, 1], { cleanAt: { '0': 4, '1': 4 } })
    await settle()
    // The lease runs out first (the slices stop for that reason, not for a revocation)...
    g.onLost('test: lease lost')
    await settle()
    expect(membership().rounds).toBe(0)
    // ...then the answer of a round in which the leader held 0 and 1 back for another member.
    assign(g, 6, [], { heldBack: [0, 1] })
    await settle()
    expect(membership().rounds).toBe(1)
  })

  it('asks for one round when held-back partitions stop after the assignment', async () => {
    const { group: g, membership } = group()
    await g.start()
    assign(g, 5, [0, 1, 2], { cleanAt: { '0': 4, '1': 4, '2': 4 } })
    await settle()
    assign(g, 6, [2], { heldBack: [0, 1] })
    await settle()
    expect(membership().rounds).toBe(1)
    expect(membership().report().live).toEqual([2])
  })

  it("runs nothing when its list differs from the group's", async () => {
    const { group: g, starts } = group()
    await g.start()
    assign(g, 5, [], { mismatch: "its process list (test) differs from the group's (other)" })
    await settle()
    expect(starts).toEqual([])
    expect(g.assigned()).toEqual([])
  })

  it('reports what the group must agree on', async () => {
    const { group: g, membership } = group()
    await g.start()
    const report = membership().report()
    expect(report).toMatchObject({
      v: 2,
      nodeId: 'me',
      partitions: 4,
      fingerprint: 'test',
      handoverMs: settings.handoverDelayMs,
      epoch: null,
    })
    assign(g, 5, [])
    expect(membership().report().epoch).toBe(3)
  })
})
