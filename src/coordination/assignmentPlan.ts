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
  /** Partitions live on this member that it does not keep: it starts a new round once they stopped. */
  readonly heldBack: readonly number[]
  /** Why it gets nothing, when its process list disagrees with the group's. */
  readonly mismatch: string | null
}

export interface AssignmentPlan {
  readonly assignments: readonly PlannedAssignment[]
  /** Partitions assigned to nobody this round because they are still live where they must not stay. */
  readonly heldBack: readonly number[]
  /** Things that must never happen (a partition live on two members, an undecodable member). */
  readonly alarms: readonly string[]
  /** Expected oddities worth a warning (a resumed node still stopping what another node now runs). */
  readonly notices: readonly string[]
  /** The partition count and list fingerprint the group runs by (the majority's). */
  readonly reference: { readonly partitions: number; readonly fingerprint: string } | undefined
  /** The group's handover delay: the largest maxStop + margin reported. */
  readonly handoverMs: number
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

const configOf = (r: MemberReport): string => `${r.partitions}|${r.fingerprint}`

/**
 * The configuration the group runs by: that of most workers; on a tie, that of the workers running
 * more slices (a rolling deploy flips only once the new version is the majority); then node order.
 */
function chooseReference(
  candidates: ReadonlyArray<{ memberId: string; report: MemberReport }>,
): { partitions: number; fingerprint: string } | undefined {
  const groups = new Map<string, { report: MemberReport; members: number; live: number; first: string }>()
  for (const { report } of candidates) {
    const key = configOf(report)
    const group = groups.get(key) ?? { report, members: 0, live: 0, first: report.nodeId }
    group.members++
    group.live += report.live.length
    if (compare(report.nodeId, group.first) < 0) group.first = report.nodeId
    groups.set(key, group)
  }
  let best: { report: MemberReport; members: number; live: number; first: string } | undefined
  for (const group of groups.values()) {
    if (
      !best ||
      group.members > best.members ||
      (group.members === best.members &&
        (group.live > best.live || (group.live === best.live && compare(group.first, best.first) < 0)))
    )
      best = group
  }
  return best && { partitions: best.report.partitions, fingerprint: best.report.fingerprint }
}

function describeMismatch(
  report: MemberReport,
  reference: { partitions: number; fingerprint: string },
): string {
  const differences: string[] = []
  if (report.partitions !== reference.partitions)
    differences.push(`it slices by ${report.partitions} partitions, the group by ${reference.partitions}`)
  if (report.fingerprint !== reference.fingerprint)
    differences.push(
      `its process list (${report.fingerprint}) differs from the group's (${reference.fingerprint})`,
    )
  return `${differences.join('; ')}: it gets nothing until it matches (or becomes the majority)`
}

/**
 * The leader's assignment: balanced, sticky, and never giving a partition that is live on one member
 * to another member in the same round (it is held back until its holder reports it stopped).
 * Workers whose process list or partition count differs from the majority's get nothing; while any
 * of them still runs something, nothing new starts anywhere (its slices hold other processes).
 *
 * Pure: the same members give the same plan, whichever member is the leader. `partitionCount` is
 * the leader's own, used only when no worker is present.
 */
export function planAssignment(leaderPartitions: number, members: readonly PlanMember[]): AssignmentPlan {
  const alarms: string[] = []
  const notices: string[] = []
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
  // A partition live on several members: one of them may be a zombie of an older generation that
  // is stopping (a node resumed after its session expired, rejoining with a new member id). The one
  // whose claim is the newest keeps it: it already runs it, so keeping it starts nothing new, and
  // the others stop it since they do not get it. With no single newest claim it is held back.
  const claimOf = new Map<string, MemberReport>()
  for (const { memberId, report } of members) if (report) claimOf.set(memberId, report)
  const liveHolder = new Map<number, string>()
  for (const [p, holders] of liveOn) {
    if (holders.length === 1) {
      liveHolder.set(p, holders[0]!)
      continue
    }
    const generations = holders.map((memberId) => {
      const report = claimOf.get(memberId)
      return report?.claims.includes(p) ? report.generation : -Infinity
    })
    const newest = Math.max(...generations)
    if (newest > -Infinity && generations.filter((g) => g === newest).length === 1) {
      const keeper = holders[generations.indexOf(newest)]!
      liveHolder.set(p, keeper)
      notices.push(
        `partition ${p} is live on ${holders.length} members (${holders.join(', ')}): it stays with ${keeper}, whose claim is the newest; the others, which lost it (a node resumed after its session expired?), stop it`,
      )
    } else alarms.push(`partition ${p} is live on ${holders.length} members at once: ${holders.join(', ')}`)
  }

  const candidates = members.flatMap(({ memberId, report }) =>
    report && report.role === 'worker' && !report.leaving ? [{ memberId, report }] : [],
  )
  const reference = chooseReference(candidates)
  const partitionCount = reference?.partitions ?? leaderPartitions
  const mismatch = new Map<string, string>()
  for (const { memberId, report } of candidates) {
    if (reference && configOf(report) !== `${reference.partitions}|${reference.fingerprint}`) {
      mismatch.set(memberId, describeMismatch(report, reference))
      alarms.push(`member ${memberId} (${report.nodeId}): ${describeMismatch(report, reference)}`)
    }
  }
  const workers = candidates
    .filter(({ memberId }) => !mismatch.has(memberId))
    .map(({ memberId, report }) => ({ memberId, nodeId: report.nodeId }))
    .sort(byNode)
  const workerIds = new Set(workers.map((w) => w.memberId))
  // A mismatched member slices other processes into its partitions: until it runs nothing, no
  // partition may start anywhere new (any of them could hold one of its processes).
  const liveByMember = new Map<string, number[]>()
  for (const [p, holders] of liveOn) {
    for (const memberId of holders) {
      const mine = liveByMember.get(memberId) ?? []
      mine.push(p)
      liveByMember.set(memberId, mine)
    }
  }
  const frozen = [...mismatch.keys()].some((memberId) => (liveByMember.get(memberId)?.length ?? 0) > 0)

  // Who holds each partition now: the one member running it, else the latest claimant if still here.
  const holder = new Map<number, string>()
  for (let p = 0; p < partitionCount; p++) {
    const live = liveOn.get(p) ?? []
    const claim = latestClaim.get(p)
    const running = liveHolder.get(p)
    if (running !== undefined) holder.set(p, running)
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
    // Each partition of the pool goes to the member with the most room left (the first in rank
    // order on a tie): a heap keeps that O(log members) per partition.
    const rooms = new RoomHeap(
      ranked.map((w, rank) => ({
        rank,
        room: quota.get(w.memberId)! - target.get(w.memberId)!.length,
      })),
    )
    for (const p of pool) {
      const rank = rooms.takeOne()
      if (rank === undefined) break
      target.get(ranked[rank]!.memberId)!.push(p)
    }
  }

  // Still running on a member that gets nothing (leaving, trigger): assigned to nobody until it stops.
  const heldBack: number[] = []
  for (const [p, holders] of liveOn) {
    const running = liveHolder.get(p)
    if ((holders.length > 1 && running === undefined) || (running !== undefined && !workerIds.has(running)))
      heldBack.push(p)
  }
  const assignments = members.map(({ memberId }) => {
    const partitions: number[] = []
    const cleanAt: Record<string, number> = {}
    for (const p of (target.get(memberId) ?? []).sort((a, b) => a - b)) {
      const live = liveOn.get(p) ?? []
      const running = liveHolder.get(p)
      if (
        (live.length > 0 && running !== memberId) ||
        (live.length > 1 && running === undefined) ||
        (frozen && live.length === 0)
      ) {
        heldBack.push(p)
        continue
      }
      partitions.push(p)
      // Claims come only from members of this round, so the claimant is here and reported p stopped.
      // The member starts at once only if that claim is from the previous generation (see processGroup).
      const claim = latestClaim.get(p)
      if (live.length === 0 && claim) cleanAt[String(p)] = claim.generation
    }
    const kept = new Set(partitions)
    const mine = (liveByMember.get(memberId) ?? []).filter((p) => !kept.has(p))
    return {
      memberId,
      partitions,
      cleanAt,
      heldBack: mine.sort((a, b) => a - b),
      mismatch: mismatch.get(memberId) ?? null,
    }
  })
  let handoverMs = 0
  for (const { report } of members) if (report) handoverMs = Math.max(handoverMs, report.handoverMs)
  return {
    assignments,
    heldBack: [...new Set(heldBack)].sort((a, b) => a - b),
    alarms,
    notices,
    reference,
    handoverMs,
  }
}

/** Members by room left (most first, then rank): a binary max-heap. */
class RoomHeap {
  readonly #items: Array<{ rank: number; room: number }>

  constructor(items: Array<{ rank: number; room: number }>) {
    this.#items = []
    for (const item of items) if (item.room > 0) this.#push(item)
  }

  /** The rank of the member with the most room, whose room shrinks by one. */
  takeOne(): number | undefined {
    const top = this.#items[0]
    if (!top) return undefined
    top.room--
    if (top.room === 0) {
      const last = this.#items.pop()!
      if (this.#items.length > 0) {
        this.#items[0] = last
        this.#down(0)
      }
    } else this.#down(0)
    return top.rank
  }

  #before(a: { rank: number; room: number }, b: { rank: number; room: number }): boolean {
    return a.room > b.room || (a.room === b.room && a.rank < b.rank)
  }

  #push(item: { rank: number; room: number }): void {
    const items = this.#items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  #down(start: number): void {
    const items = this.#items
    let i = start
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let best = i
      if (left < items.length && this.#before(items[left]!, items[best]!)) best = left
      if (right < items.length && this.#before(items[right]!, items[best]!)) best = right
      if (best === i) return
      ;[items[i], items[best]] = [items[best]!, items[i]!]
      i = best
    }
  }
}
