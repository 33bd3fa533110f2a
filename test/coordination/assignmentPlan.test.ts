import { describe, expect, it } from 'vitest'
import {
  type AssignmentPlan,
  type PlanMember,
  planAssignment,
} from '../../src/coordination/assignmentPlan.js'
import { encodeReport, type MemberReport, notesTopics } from '../../src/coordination/memberProtocol.js'
import { mulberry32, type Random } from '../helpers/prng.js'

/** A report's agreed configuration: `partitions: 0` is filled in with the plan's count by `plan`. */
const sameList = { partitions: 0, fingerprint: 'list-1', handoverMs: 4000, epoch: null }

function member(memberId: string, fields: Partial<MemberReport> = {}): PlanMember {
  return {
    memberId,
    report: {
      v: 2,
      nodeId: `node-${memberId}`,
      role: 'worker',
      leaving: false,
      generation: -1,
      claims: [],
      live: [],
      ...sameList,
      ...fields,
    },
  }
}

/** planAssignment with every report that left its partition count open slicing by `partitions`. */
function planWith(partitions: number, members: readonly PlanMember[]): AssignmentPlan {
  return planAssignment(
    partitions,
    members.map((m) =>
      m.report && m.report.partitions === 0 ? { ...m, report: { ...m.report, partitions } } : m,
    ),
  )
}

function partitionsOf(plan: AssignmentPlan, memberId: string): readonly number[] {
  const assignment = plan.assignments.find((a) => a.memberId === memberId)
  if (!assignment) throw new Error(`no assignment for ${memberId}`)
  return assignment.partitions
}

function cleanAtOf(plan: AssignmentPlan, memberId: string): Readonly<Record<string, number>> {
  const assignment = plan.assignments.find((a) => a.memberId === memberId)
  if (!assignment) throw new Error(`no assignment for ${memberId}`)
  return assignment.cleanAt
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('planAssignment: members that disagree on the process list', () => {
  it('gives a member with another list fingerprint nothing, names the difference, and keeps the rest balanced', () => {
    const p = planWith(6, [
      member('a', { generation: 3, claims: [0, 1, 2], live: [0, 1, 2] }),
      member('b', { generation: 3, claims: [3, 4, 5], live: [3, 4, 5] }),
      member('new', { fingerprint: 'list-2' }),
    ])
    expect(partitionsOf(p, 'new')).toEqual([])
    expect(p.assignments.find((a) => a.memberId === 'new')?.mismatch).toMatch(
      /process list \(list-2\) differs/,
    )
    expect(p.alarms.some((a) => a.includes('new') && a.includes('list-2'))).toBe(true)
    expect(partitionsOf(p, 'a')).toEqual([0, 1, 2])
    expect(partitionsOf(p, 'b')).toEqual([3, 4, 5])
    expect(p.reference).toEqual({ partitions: 6, fingerprint: 'list-1' })
  })

  it('refuses a member that slices by another partition count (the technical topic was grown)', () => {
    const p = planWith(6, [
      member('a', { generation: 3, claims: [0, 1, 2, 3, 4, 5], live: [0, 1, 2, 3, 4, 5] }),
      member('grown', { partitions: 9 }),
    ])
    expect(partitionsOf(p, 'grown')).toEqual([])
    expect(p.assignments.find((a) => a.memberId === 'grown')?.mismatch).toMatch(
      /9 partitions, the group by 6/,
    )
  })

  it('starts nothing new anywhere while a mismatched member still runs slices, and hands all over once it stopped', () => {
    // A rolling deploy: the new list is now the majority; the old node still runs 0-2.
    const members = [
      member('old', { generation: 4, fingerprint: 'list-0', claims: [0, 1, 2], live: [0, 1, 2] }),
      member('n1', { generation: 4, claims: [3, 4, 5], live: [3, 4, 5] }),
      member('n2', { generation: -1 }),
    ]
    const first = planWith(6, members)
    expect(partitionsOf(first, 'old')).toEqual([])
    // n1 keeps what it runs; nothing that is not live starts (n2 gets nothing yet).
    expect(partitionsOf(first, 'n1')).toEqual([3, 4, 5])
    expect(partitionsOf(first, 'n2')).toEqual([])
    expect(first.assignments.find((a) => a.memberId === 'old')?.heldBack).toEqual([0, 1, 2])
    const second = planWith(6, [
      member('old', { generation: 5, fingerprint: 'list-0', claims: [0, 1, 2], live: [] }),
      member('n1', { generation: 5, claims: [3, 4, 5], live: [3, 4, 5] }),
      member('n2', { generation: 5 }),
    ])
    expect(partitionsOf(second, 'old')).toEqual([])
    expect([...partitionsOf(second, 'n1'), ...partitionsOf(second, 'n2')].sort()).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('follows the majority, and on a tie the side that runs more slices', () => {
    const tie = planWith(4, [
      member('a', { fingerprint: 'old', generation: 2, claims: [0, 1, 2, 3], live: [0, 1, 2, 3] }),
      member('b', { fingerprint: 'new' }),
    ])
    expect(tie.reference?.fingerprint).toBe('old')
    const majority = planWith(4, [
      member('a', { fingerprint: 'old', generation: 2, claims: [0, 1, 2, 3], live: [0, 1, 2, 3] }),
      member('b', { fingerprint: 'new' }),
      member('c', { fingerprint: 'new' }),
    ])
    expect(majority.reference?.fingerprint).toBe('new')
    expect(partitionsOf(majority, 'a')).toEqual([])
  })

  it('reports the largest handover delay of all members', () => {
    const p = planWith(2, [member('a', { handoverMs: 4000 }), member('b', { handoverMs: 9000 }), member('c')])
    expect(p.handoverMs).toBe(9000)
  })

  it('tells each member only the held-back partitions it runs itself', () => {
    const p = planWith(4, [
      member('l', { leaving: true, generation: 5, claims: [0, 1], live: [0, 1] }),
      member('w', { generation: 5, claims: [2, 3], live: [2, 3] }),
    ])
    expect(p.heldBack).toEqual([0, 1])
    expect(p.assignments.find((a) => a.memberId === 'l')?.heldBack).toEqual([0, 1])
    expect(p.assignments.find((a) => a.memberId === 'w')?.heldBack).toEqual([])
  })
})

describe('planAssignment: examples', () => {
  it('returns nothing for an empty group', () => {
    expect(planWith(8, [])).toEqual({
      assignments: [],
      heldBack: [],
      alarms: [],
      notices: [],
      reference: undefined,
      handoverMs: 0,
    })
  })

  it('spreads the partitions of a fresh group evenly, one assignment per member in input order', () => {
    const plan = planWith(8, [member('c'), member('a'), member('b')])
    expect(plan.assignments.map((a) => a.memberId)).toEqual(['c', 'a', 'b'])
    // 8 over 3: two members get 3, one gets 2; ties go by node id, so node-a and node-b get the +1.
    expect(partitionsOf(plan, 'a')).toHaveLength(3)
    expect(partitionsOf(plan, 'b')).toHaveLength(3)
    expect(partitionsOf(plan, 'c')).toHaveLength(2)
    const all = plan.assignments.flatMap((a) => a.partitions).sort((x, y) => x - y)
    expect(all).toEqual(range(8))
    expect(plan.heldBack).toEqual([])
    expect(plan.alarms).toEqual([])
    for (const a of plan.assignments) {
      expect([...a.partitions]).toEqual([...a.partitions].sort((x, y) => x - y))
      expect(a.cleanAt).toEqual({})
    }
  })

  it('keeps a balanced placement as it is', () => {
    const plan = planWith(6, [
      member('a', { generation: 3, claims: [0, 2, 4], live: [0, 2, 4] }),
      member('b', { generation: 3, claims: [1, 3, 5], live: [1, 3, 5] }),
    ])
    expect(partitionsOf(plan, 'a')).toEqual([0, 2, 4])
    expect(partitionsOf(plan, 'b')).toEqual([1, 3, 5])
    expect(plan.heldBack).toEqual([])
    expect(plan.alarms).toEqual([])
  })

  it('holds back the partitions a new member should get while their holder still runs them', () => {
    const plan = planWith(6, [member('a', { generation: 3, claims: range(6), live: range(6) }), member('b')])
    expect(partitionsOf(plan, 'a')).toEqual([0, 1, 2])
    expect(partitionsOf(plan, 'b')).toEqual([])
    expect(plan.heldBack).toEqual([3, 4, 5])
    expect(plan.alarms).toEqual([])
  })

  it('hands the held-back partitions over cleanly once their holder reports them stopped', () => {
    const plan = planWith(6, [
      member('a', { generation: 4, claims: range(6), live: [0, 1, 2] }),
      member('b', { generation: 4 }),
    ])
    expect(partitionsOf(plan, 'a')).toEqual([0, 1, 2])
    expect(partitionsOf(plan, 'b')).toEqual([3, 4, 5])
    expect(cleanAtOf(plan, 'b')).toEqual({ '3': 4, '4': 4, '5': 4 })
    expect(plan.heldBack).toEqual([])
  })

  it('gives a partition live on two members with equal claims to nobody and raises an alarm', () => {
    const plan = planWith(2, [
      member('a', { generation: 2, claims: [0], live: [0] }),
      member('b', { generation: 2, claims: [0, 1], live: [0, 1] }),
    ])
    expect(partitionsOf(plan, 'a')).not.toContain(0)
    expect(partitionsOf(plan, 'b')).not.toContain(0)
    expect(partitionsOf(plan, 'b')).toEqual([1])
    expect(plan.heldBack).toContain(0)
    expect(plan.alarms).toHaveLength(1)
    expect(plan.alarms[0]).toContain('partition 0')
    expect(plan.alarms[0]).toContain('a')
    expect(plan.alarms[0]).toContain('b')
  })

  it('keeps a partition live on two members with the one whose claim is newer (the other is a stopping zombie)', () => {
    // n2 resumed after its session expired and rejoined while its slices still stop; n4 took 0 over.
    const plan = planWith(2, [
      member('zombie', { generation: 30, claims: [0, 1], live: [0, 1] }),
      member('owner', { generation: 32, claims: [0], live: [0] }),
    ])
    expect(partitionsOf(plan, 'owner')).toContain(0)
    expect(partitionsOf(plan, 'zombie')).not.toContain(0)
    expect(plan.heldBack).not.toContain(0)
    expect(plan.assignments.find((a) => a.memberId === 'zombie')?.heldBack).toContain(0)
    expect(plan.alarms).toEqual([])
    expect(plan.notices.some((a) => a.includes('partition 0') && a.includes('stays with owner'))).toBe(true)
  })

  it('gives nothing to a member whose metadata did not decode, and raises an alarm', () => {
    const plan = planWith(4, [{ memberId: 'broken', report: undefined }, member('a')])
    expect(partitionsOf(plan, 'broken')).toEqual([])
    expect(partitionsOf(plan, 'a')).toEqual([0, 1, 2, 3])
    expect(plan.alarms).toHaveLength(1)
    expect(plan.alarms[0]).toContain('broken')
  })

  it('gives nothing to triggers and leaving members', () => {
    const plan = planWith(4, [member('t', { role: 'trigger' }), member('l', { leaving: true }), member('w')])
    expect(partitionsOf(plan, 't')).toEqual([])
    expect(partitionsOf(plan, 'l')).toEqual([])
    expect(partitionsOf(plan, 'w')).toEqual([0, 1, 2, 3])
  })

  it('never gives a partition still live on a leaving member to anyone else', () => {
    const plan = planWith(4, [
      member('l', { leaving: true, generation: 5, claims: [0, 1], live: [0, 1] }),
      member('w', { generation: 5, claims: [2, 3], live: [2, 3] }),
    ])
    expect(partitionsOf(plan, 'l')).toEqual([])
    expect(partitionsOf(plan, 'w')).toEqual([2, 3])
  })

  // heldBack is documented as "partitions whose balanced target is another member than the one still
  // running them": a leaving member gets nothing, so what it still runs is held back.
  it('lists a partition still live on a leaving member in heldBack', () => {
    const plan = planWith(4, [
      member('l', { leaving: true, generation: 5, claims: [0, 1], live: [0, 1] }),
      member('w', { generation: 5, claims: [2, 3], live: [2, 3] }),
    ])
    expect(plan.heldBack).toEqual([0, 1])
  })

  it('hands over what a leaving member stopped cleanly, at the generation of its claim', () => {
    const plan = planWith(4, [
      member('l', { leaving: true, generation: 7, claims: [0, 1], live: [] }),
      member('w', { generation: 7, claims: [2, 3], live: [2, 3] }),
    ])
    expect(partitionsOf(plan, 'w')).toEqual([0, 1, 2, 3])
    expect(cleanAtOf(plan, 'w')).toEqual({ '0': 7, '1': 7 })
  })

  it('sets no cleanAt for a partition nobody present claims (its owner crashed)', () => {
    const plan = planWith(4, [member('w', { generation: 7, claims: [2, 3], live: [2, 3] })])
    expect(partitionsOf(plan, 'w')).toEqual([0, 1, 2, 3])
    expect(cleanAtOf(plan, 'w')).toEqual({})
  })

  // The plan must not depend on the order in which the broker lists the members. Two claims of one
  // partition in the same generation should not happen, but when they do the first listed wins.
  it('does not depend on member order when two claims of a partition have the same generation', () => {
    const a = member('a', { generation: 3, claims: [0, 1] })
    const b = member('b', { generation: 3, claims: [0] })
    const one = planWith(2, [a, b])
    const two = planWith(2, [b, a])
    expect(partitionsOf(two, 'a')).toEqual(partitionsOf(one, 'a'))
    expect(partitionsOf(two, 'b')).toEqual(partitionsOf(one, 'b'))
  })

  it('uses the claim with the highest generation', () => {
    const plan = planWith(1, [
      member('old', { generation: 2, claims: [0] }),
      member('new', { generation: 5, claims: [0] }),
      member('x', { leaving: true, generation: 3, claims: [0] }),
    ])
    // The latest claimant keeps it (sticky through claims), clean at its generation.
    expect(partitionsOf(plan, 'new')).toEqual([0])
    expect(cleanAtOf(plan, 'new')).toEqual({ '0': 5 })
  })

  it('keeps a stopped-but-claimed partition with its claimant rather than moving it', () => {
    const plan = planWith(4, [
      member('a', { generation: 3, claims: [0, 1], live: [0] }),
      member('b', { generation: 3, claims: [2, 3], live: [2, 3] }),
    ])
    expect(partitionsOf(plan, 'a')).toEqual([0, 1])
    expect(partitionsOf(plan, 'b')).toEqual([2, 3])
    expect(cleanAtOf(plan, 'a')).toEqual({ '1': 3 })
  })
})

// --- randomized properties ---

interface Case {
  readonly partitions: number
  readonly members: readonly PlanMember[]
}

const CASES = 500

function subset(rng: Random, partitions: number, rate: number): number[] {
  return range(partitions).filter(() => rng.chance(rate))
}

function memberId(rng: Random, i: number): string {
  return `${rng.pick(['kdp', 'consumer', 'm'])}-${i}-${rng.int(0, 0xffff).toString(16)}`
}

/** Anything goes: undecodable members, triggers, leaving members, random claims and live sets. */
function randomCase(rng: Random, liveRates?: readonly number[]): Case {
  const partitions = rng.int(1, 64)
  const count = rng.int(1, 8)
  const liveRate = rng.pick(liveRates ?? [0, 0.03, 1 / count, 0.6])
  const claimRate = rng.pick([0, 1 / count, 0.5])
  const members = range(count).map((i): PlanMember => {
    const id = memberId(rng, i)
    if (rng.chance(0.08)) return { memberId: id, report: undefined }
    return {
      memberId: id,
      report: {
        v: 2,
        ...sameList,
        nodeId: `node-${rng.int(0, 4)}`,
        role: rng.chance(0.12) ? 'trigger' : 'worker',
        leaving: rng.chance(0.15),
        generation: rng.int(-1, 6),
        claims: subset(rng, partitions, claimRate),
        live: subset(rng, partitions, liveRate),
      },
    }
  })
  return { partitions, members }
}

/** Workers only, every partition live on exactly one of them, balanced. */
function balancedCase(rng: Random, maxWorkers: number): Case & { generation: number } {
  const partitions = rng.int(1, 64)
  const count = rng.int(1, maxWorkers)
  const generation = rng.int(0, 9)
  const base = Math.floor(partitions / count)
  const plusOne = new Set(rng.shuffle(range(count)).slice(0, partitions % count))
  const shuffled = rng.shuffle(range(partitions))
  let next = 0
  const members = range(count).map((i): PlanMember => {
    const size = base + (plusOne.has(i) ? 1 : 0)
    const mine = shuffled.slice(next, next + size).sort((a, b) => a - b)
    next += size
    return {
      memberId: memberId(rng, i),
      report: {
        v: 2,
        ...sameList,
        nodeId: `node-${rng.int(0, 4)}`,
        role: 'worker',
        leaving: false,
        generation,
        claims: mine,
        live: mine,
      },
    }
  })
  return { partitions, members, generation }
}

const isWorker = (m: PlanMember): boolean =>
  m.report !== undefined && m.report.role === 'worker' && !m.report.leaving

function liveHolders(members: readonly PlanMember[]): Map<number, string[]> {
  const result = new Map<number, string[]>()
  for (const m of members)
    for (const p of m.report?.live ?? []) result.set(p, [...(result.get(p) ?? []), m.memberId])
  return result
}

function owners(plan: AssignmentPlan): Map<number, string[]> {
  const result = new Map<number, string[]>()
  for (const a of plan.assignments)
    for (const p of a.partitions) result.set(p, [...(result.get(p) ?? []), a.memberId])
  return result
}

/** Runs `property` on CASES generated cases; returns the first violations found (empty when it holds). */
function violationsOf(
  seed: number,
  generate: (rng: Random) => Case,
  property: (c: Case, plan: AssignmentPlan) => string[],
): string[] {
  const rng = mulberry32(seed)
  const violations: string[] = []
  for (let i = 0; i < CASES && violations.length < 5; i++) {
    const c = generate(rng)
    const plan = planWith(c.partitions, c.members)
    for (const v of property(c, plan).slice(0, 5 - violations.length))
      violations.push(
        `seed ${seed} case ${i}: ${v}\n  input: ${JSON.stringify(c)}\n  plan: ${JSON.stringify(plan)}`,
      )
  }
  return violations
}

describe('planAssignment: properties over random groups', () => {
  it('(a) gives every partition to at most one member, each list sorted, in range and without duplicates', () => {
    const violations = violationsOf(1, randomCase, (c, plan) => {
      const out: string[] = []
      if (plan.assignments.map((a) => a.memberId).join() !== c.members.map((m) => m.memberId).join())
        out.push('assignments are not one per member in input order')
      for (const [p, holders] of owners(plan)) if (holders.length > 1) out.push(`${p} given to ${holders}`)
      for (const a of plan.assignments) {
        const sorted = [...new Set(a.partitions)].sort((x, y) => x - y)
        if (sorted.join() !== a.partitions.join()) out.push(`${a.memberId} has an unsorted or duplicate list`)
        if (a.partitions.some((p) => !Number.isInteger(p) || p < 0 || p >= c.partitions))
          out.push(`${a.memberId} has a partition out of range`)
      }
      return out
    })
    expect(violations).toEqual([])
  })

  it('(b) never gives a partition live on one member to another member', () => {
    let relevant = 0
    const violations = violationsOf(2, randomCase, (c, plan) => {
      const out: string[] = []
      const given = owners(plan)
      for (const [p, holders] of liveHolders(c.members)) {
        if (holders.length !== 1) continue
        relevant++
        const to = given.get(p) ?? []
        if (to.some((m) => m !== holders[0])) out.push(`${p} live on ${holders[0]} but given to ${to}`)
      }
      return out
    })
    expect(violations).toEqual([])
    expect(relevant).toBeGreaterThan(1000)
  })

  it('(b) holds back, and lists in heldBack, a partition live on one member that it does not keep', () => {
    let relevant = 0
    const violations = violationsOf(3, randomCase, (c, plan) => {
      const out: string[] = []
      const given = owners(plan)
      for (const [p, holders] of liveHolders(c.members)) {
        if (holders.length !== 1 || given.get(p)?.[0] === holders[0]) continue
        relevant++
        if (!plan.heldBack.includes(p)) out.push(`${p} live on ${holders[0]}, not kept, not in heldBack`)
      }
      return out
    })
    expect(violations).toEqual([])
    expect(relevant).toBeGreaterThan(100)
  })

  it('holds back only partitions that are live somewhere, each once, sorted', () => {
    const violations = violationsOf(4, randomCase, (c, plan) => {
      const out: string[] = []
      const live = liveHolders(c.members)
      const sorted = [...new Set(plan.heldBack)].sort((x, y) => x - y)
      if (sorted.join() !== plan.heldBack.join()) out.push('heldBack unsorted or with duplicates')
      for (const p of plan.heldBack) {
        if (!live.has(p)) out.push(`${p} held back but live nowhere`)
        if (owners(plan).has(p)) out.push(`${p} both held back and given`)
      }
      return out
    })
    expect(violations).toEqual([])
  })

  it('(c) gives a partition live on two or more members only to the one with the single newest claim, with an alarm naming them', () => {
    let relevant = 0
    const violations = violationsOf(5, randomCase, (c, plan) => {
      const out: string[] = []
      const given = owners(plan)
      for (const [p, holders] of liveHolders(c.members)) {
        if (holders.length < 2) continue
        relevant++
        const claimGeneration = (id: string) => {
          const report = c.members.find((m) => m.memberId === id)?.report
          return report?.claims.includes(p) ? report.generation : -Infinity
        }
        const newest = Math.max(...holders.map(claimGeneration))
        const newestHolders = holders.filter((h) => claimGeneration(h) === newest)
        const allowed = newest > -Infinity && newestHolders.length === 1 ? newestHolders[0] : undefined
        const to = given.get(p) ?? []
        if (to.length > 0 && (to.length > 1 || to[0] !== allowed))
          out.push(`${p} live on ${holders} but given to ${to} (allowed: ${allowed})`)
        const said = allowed === undefined ? plan.alarms : plan.notices
        if (!said.some((a) => a.includes(`partition ${p} `) && holders.every((h) => a.includes(h))))
          out.push(`no ${allowed === undefined ? 'alarm' : 'notice'} for ${p} live on ${holders}`)
      }
      return out
    })
    expect(violations).toEqual([])
    expect(relevant).toBeGreaterThan(100)
  })

  it('(d) gives nothing to triggers, leaving and undecodable members; alarms only for real problems', () => {
    const violations = violationsOf(6, randomCase, (c, plan) => {
      const out: string[] = []
      for (const m of c.members) {
        if (!isWorker(m) && partitionsOf(plan, m.memberId).length > 0)
          out.push(
            `${m.memberId} (${m.report ? `${m.report.role}, leaving ${m.report.leaving}` : 'undecodable'}) got partitions`,
          )
        if (!m.report && !plan.alarms.some((a) => a.includes(m.memberId)))
          out.push(`no alarm for ${m.memberId}`)
      }
      const doubles = [...liveHolders(c.members).values()].filter((h) => h.length > 1).length
      const undecodable = c.members.filter((m) => !m.report).length
      // A double is an alarm unless one claim is the single newest (a notice then), and the random
      // cases have no mismatched lists.
      if (plan.alarms.length + plan.notices.length !== doubles + undecodable)
        out.push(
          `${plan.alarms.length} alarms and ${plan.notices.length} notices for ${doubles} doubles and ${undecodable} undecodable members`,
        )
      return out
    })
    expect(violations).toEqual([])
  })

  it('loses no partition: with a worker present, each is given, held back or still live on a non-worker', () => {
    const violations = violationsOf(7, randomCase, (c, plan) => {
      if (!c.members.some(isWorker)) return []
      const out: string[] = []
      const given = owners(plan)
      const live = liveHolders(c.members)
      const byId = new Map(c.members.map((m) => [m.memberId, m]))
      for (let p = 0; p < c.partitions; p++) {
        if (given.has(p) || plan.heldBack.includes(p)) continue
        const holders = live.get(p) ?? []
        if (holders.length === 1 && !isWorker(byId.get(holders[0]!)!)) continue
        out.push(`${p} is neither given nor held back`)
      }
      return out
    })
    expect(violations).toEqual([])
  })

  it('(e) balances exactly when nothing is live: every worker gets floor(N/M) or ceil(N/M)', () => {
    let relevant = 0
    const violations = violationsOf(
      8,
      (rng) => randomCase(rng, [0]),
      (c, plan) => {
        const workers = c.members.filter(isWorker)
        if (workers.length === 0) return []
        relevant++
        const out: string[] = []
        const low = Math.floor(c.partitions / workers.length)
        const high = Math.ceil(c.partitions / workers.length)
        for (const w of workers) {
          const n = partitionsOf(plan, w.memberId).length
          if (n < low || n > high) out.push(`${w.memberId} got ${n}, expected ${low}..${high}`)
        }
        const given = owners(plan)
        if (given.size !== c.partitions) out.push(`only ${given.size} of ${c.partitions} partitions given`)
        if (plan.heldBack.length > 0) out.push(`held back ${plan.heldBack} with nothing live`)
        return out
      },
    )
    expect(violations).toEqual([])
    expect(relevant).toBeGreaterThan(300)
  })

  it('(f) moves nothing when every partition is live on exactly one worker and the spread is balanced', () => {
    const violations = violationsOf(
      9,
      (rng) => balancedCase(rng, 8),
      (c, plan) => {
        const out: string[] = []
        for (const m of c.members) {
          const got = partitionsOf(plan, m.memberId)
          if (got.join() !== m.report!.live.join())
            out.push(`${m.memberId} runs ${m.report!.live}, got ${got}`)
          if (Object.keys(cleanAtOf(plan, m.memberId)).length > 0)
            out.push(`${m.memberId} got cleanAt entries`)
        }
        if (plan.heldBack.length > 0) out.push(`held back ${plan.heldBack}`)
        if (plan.alarms.length > 0) out.push(`alarms ${plan.alarms}`)
        return out
      },
    )
    expect(violations).toEqual([])
  })

  it('(f) a new worker only takes partitions from the old ones (held back first), then gets them cleanly', () => {
    const rng = mulberry32(10)
    const violations: string[] = []
    for (let i = 0; i < CASES && violations.length < 5; i++) {
      const before = balancedCase(rng, 7)
      const newcomer = member(`new-${i}`, { nodeId: `node-${rng.int(0, 4)}`, generation: before.generation })
      const members = rng.shuffle([...before.members, newcomer])
      const fail = (what: string, plan: AssignmentPlan, input: readonly PlanMember[]): void => {
        violations.push(
          `case ${i}: ${what}\n  input: ${JSON.stringify(input)}\n  plan: ${JSON.stringify(plan)}`,
        )
      }
      const n = before.partitions
      const low = Math.floor(n / members.length)
      const high = Math.ceil(n / members.length)

      // Round 1: the old workers still run everything.
      const first = planWith(n, members)
      if (partitionsOf(first, newcomer.memberId).length > 0)
        fail('the newcomer got a live partition', first, members)
      const kept = new Map<string, readonly number[]>()
      for (const m of before.members) {
        const got = partitionsOf(first, m.memberId)
        kept.set(m.memberId, got)
        if (got.some((p) => !m.report!.live.includes(p)))
          fail(`${m.memberId} got a partition it did not run`, first, members)
        if (got.length < low || got.length > high) fail(`${m.memberId} keeps ${got.length}`, first, members)
      }
      const moved = range(n).filter((p) => ![...kept.values()].some((ps) => ps.includes(p)))
      if (first.heldBack.join() !== moved.join())
        fail(`held back ${first.heldBack}, moved ${moved}`, first, members)
      if (moved.length < low || moved.length > high)
        fail(`moved ${moved.length} to the newcomer`, first, members)

      // Round 2: each old worker stopped what it lost and claims it as released.
      const generation = before.generation + 1
      const second: PlanMember[] = members.map((m) => {
        if (m.memberId === newcomer.memberId)
          return member(m.memberId, { nodeId: m.report!.nodeId, generation })
        const mine = [...kept.get(m.memberId)!]
        return {
          memberId: m.memberId,
          report: { ...m.report!, generation, live: mine, claims: m.report!.live },
        }
      })
      const plan = planWith(n, second)
      if (partitionsOf(plan, newcomer.memberId).join() !== moved.join())
        fail(`the newcomer got ${partitionsOf(plan, newcomer.memberId)}, expected ${moved}`, plan, second)
      const expectedClean = Object.fromEntries(moved.map((p) => [String(p), generation]))
      if (JSON.stringify(cleanAtOf(plan, newcomer.memberId)) !== JSON.stringify(expectedClean))
        fail('the newcomer did not get every moved partition as a clean handover', plan, second)
      for (const m of before.members)
        if (partitionsOf(plan, m.memberId).join() !== kept.get(m.memberId)!.join())
          fail(`${m.memberId} changed in round 2`, plan, second)
      if (plan.heldBack.length > 0) fail('held back in round 2', plan, second)
    }
    expect(violations).toEqual([])
  })

  it('(g) sets cleanAt exactly for given partitions live nowhere whose latest claimant is present', () => {
    let relevant = 0
    const violations = violationsOf(11, randomCase, (c, plan) => {
      const out: string[] = []
      const live = liveHolders(c.members)
      const present = new Set(c.members.map((m) => m.memberId))
      const latest = new Map<number, { generation: number; memberIds: string[] }>()
      for (const m of c.members) {
        if (!m.report) continue
        for (const p of m.report.claims) {
          const seen = latest.get(p)
          if (!seen || m.report.generation > seen.generation)
            latest.set(p, { generation: m.report.generation, memberIds: [m.memberId] })
          else if (m.report.generation === seen.generation) seen.memberIds.push(m.memberId)
        }
      }
      for (const a of plan.assignments) {
        for (const key of Object.keys(a.cleanAt))
          if (!a.partitions.includes(Number(key))) out.push(`${a.memberId} has cleanAt for ${key}, not given`)
        for (const p of a.partitions) {
          const claim = latest.get(p)
          const expected =
            !live.has(p) && claim && claim.memberIds.some((id) => present.has(id))
              ? claim.generation
              : undefined
          if (expected !== undefined) relevant++
          if (a.cleanAt[String(p)] !== expected)
            out.push(`${a.memberId}: cleanAt[${p}] = ${a.cleanAt[String(p)]}, expected ${expected}`)
        }
      }
      return out
    })
    expect(violations).toEqual([])
    expect(relevant).toBeGreaterThan(1000)
  })

  it('(h) is deterministic: the same members in another order get the same partitions', () => {
    const rng = mulberry32(12)
    const violations: string[] = []
    const perMember = (plan: AssignmentPlan): string =>
      JSON.stringify(
        [...plan.assignments]
          .sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
          .map((a) => [a.memberId, a.partitions, a.cleanAt]),
      )
    for (let i = 0; i < CASES && violations.length < 5; i++) {
      const c = randomCase(rng)
      const shuffled = rng.shuffle(c.members)
      const a = planWith(c.partitions, c.members)
      const b = planWith(c.partitions, shuffled)
      if (perMember(a) !== perMember(b) || a.heldBack.join() !== b.heldBack.join())
        violations.push(
          `case ${i}\n  input: ${JSON.stringify(c)}\n  order 2: ${shuffled.map((m) => m.memberId)}\n  plan 1: ${perMember(a)}\n  plan 2: ${perMember(b)}`,
        )
    }
    expect(violations).toEqual([])
  })
})

describe('planAssignment at scale', () => {
  it("1,000 members on 10,000 partitions: reports and notes stay far below kafkajs's int16 limits", () => {
    const members: PlanMember[] = []
    for (let m = 0; m < 1000; m++) {
      const live: number[] = []
      for (let p = m; p < 10_000; p += 1000) live.push(p)
      members.push(
        member(`m${String(m).padStart(4, '0')}`, { partitions: 10_000, generation: 9, claims: live, live }),
      )
    }
    members.push(member('joiner', { partitions: 10_000 }))
    const plan = planWith(10_000, members)
    expect(plan.assignments.reduce((n, a) => n + a.partitions.length, 0) + plan.heldBack.length).toBe(10_000)
    for (const m of members) expect(encodeReport(m.report!).length).toBeLessThan(2_000)
    for (const a of plan.assignments) {
      const topics = notesTopics({
        v: 2,
        cleanAt: a.cleanAt,
        heldBack: [...a.heldBack],
        epoch: 1,
        handoverMs: plan.handoverMs,
        mismatch: a.mismatch,
      })
      expect(topics).toHaveLength(1)
      expect(topics[0]!.length).toBeLessThan(2_000)
    }
  })
})
