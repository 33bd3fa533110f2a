import type { MemberReport } from './memberProtocol.js'

export interface PlanMember {
  readonly memberId: string
  /** undefined: the member's metadata did not decode (a foreign or broken client); it gets nothing. */
  readonly report: MemberReport | undefined
}

export interface PlannedAssignment {
  readonly memberId: string
  readonly partitions: readonly number[]
  /** partition → generation of the claim that makes its handover clean (see AssignmentNotes). */
  readonly cleanAt: Readonly<Record<string, number>>
}

export interface AssignmentPlan {
  readonly assignments: readonly PlannedAssignment[]
  /** Partitions whose balanced target is another member than the one still running them. */
  readonly heldBack: readonly number[]
  /** Things that must never happen (a partition live on two members, an undecodable member). */
  readonly alarms: readonly string[]
}

interface Claim {
  readonly memberId: string
  readonly nodeId: string
  readonly generation: number
}

// Plain code-unit order, not localeCompare: every leader must sort the same way whatever its locale.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const byNode = (a: { memberId: string; nodeId: string }, b: { memberId: string; nodeId: string }): number =>
  a.nodeId === b.nodeId ? compare(a.memberId, b.memberId) : compare(a.nodeId, b.nodeId)

/**
 * The leader's assignment: balanced, sticky, and never giving a partition that is live on one member
 * to another member in the same round (it is held back until its holder reports it stopped).
 *
 * Pure: the same members give the same plan, whichever member is the leader.
 */
export function planAssignment(partitionCount: number, members: readonly PlanMember[]): AssignmentPlan {
  const alarms: string[] = []
  const liveOn = new Map<number, string[]>()
  const latestClaim = new Map<number, Claim>()
  for (const { memberId, report } of members) {
    if (!report) {
      alarms.push(`member ${memberId} sent metadata kdp cannot decode; it gets no partitions`)
      continue
    }
    for (const p of report.live) liveOn.set(p, [...(liveOn.get(p) ?? []), memberId])
    for (const p of report.claims) {
      const previous = latestClaim.get(p)
      const claim = { memberId, nodeId: report.nodeId, generation: report.generation }
      // Equal generations (should not happen) are broken by node order: the plan never depends on member order.
      const newer = !previous || claim.generation > previous.generation
      const tieWon =
        previous !== undefined && claim.generation === previous.generation && byNode(claim, previous) < 0
      if (newer || tieWon) latestClaim.set(p, claim)
    }
  }
  for (const [p, holders] of liveOn) {
    if (holders.length > 1)
      alarms.push(`partition ${p} is live on ${holders.length} members at once: ${holders.join(', ')}`)
  }

  const workers = members
    .flatMap(({ memberId, report }) =>
      report && report.role === 'worker' && !report.leaving ? [{ memberId, nodeId: report.nodeId }] : [],
    )
    .sort(byNode)
  const workerIds = new Set(workers.map((w) => w.memberId))

  // Who holds each partition now: the one member running it, else the latest claimant if still here.
  const holder = new Map<number, string>()
  for (let p = 0; p < partitionCount; p++) {
    const live = liveOn.get(p) ?? []
    const claim = latestClaim.get(p)
    if (live.length === 1) holder.set(p, live[0]!)
    else if (live.length === 0 && claim && workerIds.has(claim.memberId)) holder.set(p, claim.memberId)
  }

  const target = new Map<string, number[]>(workers.map((w) => [w.memberId, []]))
  if (workers.length > 0) {
    const held = new Map<string, number[]>(workers.map((w) => [w.memberId, []]))
    for (const [p, memberId] of holder) held.get(memberId)?.push(p)
    // Members that hold more get the "+1" slots, so fewer partitions move.
    const ranked = [...workers].sort(
      (a, b) => held.get(b.memberId)!.length - held.get(a.memberId)!.length || byNode(a, b),
    )
    const base = Math.floor(partitionCount / workers.length)
    const extra = partitionCount % workers.length
    const quota = new Map(ranked.map((w, i) => [w.memberId, base + (i < extra ? 1 : 0)]))
    const pool: number[] = []
    for (const w of ranked) {
      const mine = held.get(w.memberId)!.sort((a, b) => a - b)
      const keep = quota.get(w.memberId)!
      target.get(w.memberId)!.push(...mine.slice(0, keep))
      pool.push(...mine.slice(keep))
    }
    for (let p = 0; p < partitionCount; p++) if (!holder.has(p)) pool.push(p)
    pool.sort((a, b) => a - b)
    for (const p of pool) {
      let best = ranked[0]!
      for (const w of ranked) {
        const room = quota.get(w.memberId)! - target.get(w.memberId)!.length
        if (room > quota.get(best.memberId)! - target.get(best.memberId)!.length) best = w
      }
      target.get(best.memberId)!.push(p)
    }
  }

  // Still running on a member that gets nothing (leaving, trigger): assigned to nobody until it stops.
  const heldBack: number[] = []
  for (const [p, holders] of liveOn) {
    if (holders.length === 1 && !workerIds.has(holders[0]!)) heldBack.push(p)
  }
  const assignments = members.map(({ memberId }) => {
    const partitions: number[] = []
    const cleanAt: Record<string, number> = {}
    for (const p of (target.get(memberId) ?? []).sort((a, b) => a - b)) {
      const live = liveOn.get(p) ?? []
      if (live.length > 1 || (live.length === 1 && live[0] !== memberId)) {
        heldBack.push(p)
        continue
      }
      partitions.push(p)
      // Claims come only from members of this round, so the claimant is here and reported p stopped.
      // The member starts at once only if that claim is from the previous generation (see processGroup).
      const claim = latestClaim.get(p)
      if (live.length === 0 && claim) cleanAt[String(p)] = claim.generation
    }
    return { memberId, partitions, cleanAt }
  })
  return { assignments, heldBack: heldBack.sort((a, b) => a - b), alarms }
}
