import type { Logger } from '../util/logging.js'
import { settledWithin } from '../util/timeout.js'
import type { Assignment, GroupMembership, MembershipListener, RenewalKind } from './groupMembership.js'
import { Lease, monotonicMs } from './lease.js'
import { fencingToken, type MemberReport } from './memberProtocol.js'
import type { Process, ProcessFailure, RunningProcess } from './process.js'
import type { ResolvedSettings } from './settings.js'
import { SliceTable } from './sliceTable.js'
import { StallGuard } from './stallGuard.js'

/** How long a stop waits for the round that hands its partitions over cleanly. */
const handoverRoundBoundMs = 5000

/** The processes of one list, by key, each with its partition. */
export interface KeyedProcesses {
  byPartition(partition: number): ReadonlyMap<string, Process>
  subscribe(listener: () => void): () => void
  /** What other nodes' lists must equal (static lists: length and sources; dynamic sets: `dynamic`). */
  readonly fingerprint: string
}

/** What one group membership went through on this node, for monitoring; counts only grow. */
export interface GroupCounters {
  /** Assignments received: every rebalance round this member completed, the first join included. */
  readonly rebalances: number
  /** Lease renewals: successful heartbeats and joins. */
  readonly leaseRenewals: number
  /** Times the lease ended without a renewal (coordinator unreachable, session lost, fatal error). */
  readonly leaseLosses: number
}

interface Owned {
  /** Fencing token: (epoch, generation) of the round in which this node acquired the partition. */
  readonly token: number
  /** Monotonic time before which the slice must not start (handover delay). */
  readonly startAt: number
}

export interface ProcessGroupOptions {
  readonly name: string
  readonly settings: ResolvedSettings
  readonly processes: KeyedProcesses
  readonly logger: Logger
  readonly onFailure: (failure: ProcessFailure) => void
  /** The membership failed for good (bad settings, not authorized): the handle must fail. */
  readonly onFatal: (error: Error) => void
  readonly membership: (report: () => MemberReport, listener: MembershipListener) => GroupMembership
}

/**
 * One `start(name, processes)` on this node: a member of the consumer group `name` that runs the
 * slices of the partitions it is assigned, only while its lease is valid, and never a slice the
 * leader has not handed over cleanly (or after the handover delay).
 */
export class ProcessGroup implements MembershipListener {
  readonly #settings: ResolvedSettings
  readonly #logger: Logger
  readonly #lease: Lease
  readonly #slices: SliceTable
  readonly #guard: StallGuard
  readonly #membership: GroupMembership
  #owned = new Map<number, Owned>()
  #generation = -1
  #epoch: number | null = null
  #memberId: string | undefined
  /** Partitions whose slice ran here and stopped since the last assignment: cleanly released. */
  #released = new Set<number>()
  /**
   * While a join is in flight: the partitions its report said were live. Nothing else may start
   * until the answer, which may give any other partition to another member.
   */
  #reportedLive: ReadonlySet<number> | undefined
  /** Held back by the leader because they run here: once all stopped, a new round hands them out. */
  #heldBack = new Set<number>()
  #lastMismatch: string | null = null
  #leaving = false
  #leaseTimer: NodeJS.Timeout | undefined
  #startTimers = new Map<number, NodeJS.Timeout>()
  #unsubscribe: (() => void) | undefined
  readonly #counters = { rebalances: 0, leaseRenewals: 0, leaseLosses: 0 }
  /** A valid lease was held since the last renewal: its end without a renewal is a loss. */
  #leaseHeld = false

  constructor(private readonly options: ProcessGroupOptions) {
    const s = options.settings
    this.#settings = s
    this.#logger = options.logger
    this.#lease = new Lease({
      leaseMs: s.leaseMs,
      rebalanceLeaseMs: s.rebalanceLeaseMs,
      clockJumpMs: s.clockJumpMs,
    })
    this.#guard = new StallGuard(options.name, s.maxStopMs + s.leaseMarginMs)
    this.#slices = new SliceTable({
      maxStopMs: s.maxStopMs,
      logger: this.#logger,
      isLeaseValid: () => this.#lease.valid(),
      onFailure: options.onFailure,
      onSliceStopped: (partition, _reason, ran) => this.#sliceStopped(partition, ran),
      onInstanceRetired: () => this.#reconcile(),
      onSliceActive: () => this.#publishToGuard(),
      onStuck: (partition, key) => {
        this.#logger.error(
          'process did not stop within maxStopMs; ending this node so no second instance can overlap',
          { partition, key, maxStopMs: s.maxStopMs },
        )
        process.exit(70)
      },
    })
    this.#membership = options.membership(() => this.#report(), this)
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.options.processes.subscribe(() => this.#reconcile())
    await this.#membership.start()
  }

  /** Stops every slice, lets the others take them over cleanly, then leaves the group. */
  async stop(): Promise<void> {
    if (this.#leaving) return
    this.#leaving = true
    this.#unsubscribe?.()
    const hadWork = this.#owned.size > 0 || this.#slices.live().length > 0
    this.#reconcile()
    await this.#slices.stopAll('leaving')
    // While still a member and reporting nothing live, one more round hands our partitions over
    // without the handover delay; after LeaveGroup the others could not tell a clean stop from a crash.
    // Bounded: a round takes a join and a sync, well under a second when the coordinator answers.
    // Without a valid lease the coordinator has not answered for a while: the others then take the
    // partitions over after our LeaveGroup or session, with the handover delay.
    if (hadWork && this.#lease.valid())
      await settledWithin(this.#membership.requestRebalance(), handoverRoundBoundMs)
    await this.#membership.stop()
    this.#clearTimers()
    await this.#guard.stop()
  }

  running(): RunningProcess[] {
    return this.#slices.running()
  }

  /** Partitions this node was assigned in its current generation. */
  assigned(): number[] {
    return [...this.#owned.keys()].sort((a, b) => a - b)
  }

  counters(): GroupCounters {
    return { ...this.#counters }
  }

  get generation(): number {
    return this.#generation
  }

  // --- MembershipListener ---

  onLeaseRenewed(sentAt: number, kind: RenewalKind): void {
    const wasValid = this.#lease.valid()
    if (kind === 'stable') this.#lease.renew(sentAt)
    else this.#lease.renewInRebalance(sentAt)
    this.#counters.leaseRenewals++
    this.#leaseHeld ||= this.#lease.valid()
    this.#logger.debug('lease renewal', { kind, sentAt, deadline: this.#lease.deadline })
    this.#armLeaseTimer()
    if (!wasValid && this.#lease.valid()) {
      this.#logger.info('lease renewed', { leaseMs: this.#settings.leaseMs, kind })
      this.#reconcile()
    }
    this.#publishToGuard()
  }

  onLost(reason: string): void {
    // Our own stop disconnects the consumer too: that is not a loss worth a warning.
    if (!this.#leaving && (this.#lease.valid() || this.#slices.live().length > 0)) {
      this.#logger.warn('group membership lost; stopping every slice', { reason })
    }
    this.#reportedLive = undefined
    this.#leaseEnded()
    this.#lease.revoke()
    this.#reconcile()
  }

  onFatal(error: Error): void {
    this.#logger.error('group membership failed and will not be retried; stopping every slice', {
      error: error.message,
    })
    this.onLost(error.message)
    this.options.onFatal(error)
  }

  onAssignment(assignment: Assignment): void {
    const now = monotonicMs()
    this.#counters.rebalances++
    this.#reportedLive = undefined
    if (this.#memberId !== undefined && assignment.memberId !== this.#memberId) {
      // We were out of the group in between: whatever we still run is suspect.
      this.#logger.warn('rejoined with a new member id; stopping every slice first', {
        memberId: assignment.memberId,
      })
      void this.#slices.stopAll('lease-lost')
    }
    this.#memberId = assignment.memberId
    const notes = assignment.notes
    if (!notes) {
      // Without notes there is no epoch for a fencing token and no proof of a clean handover.
      this.#logger.error('assignment without decodable kdp notes; running nothing this round')
      this.#applyOwnership(new Map(), assignment.generation)
      return
    }
    this.#epoch = notes.epoch
    if (notes.mismatch !== this.#lastMismatch) {
      this.#lastMismatch = notes.mismatch
      if (notes.mismatch) this.#logger.error(`this node runs nothing: ${notes.mismatch}`)
    }
    const delayMs = Math.max(this.#settings.handoverDelayMs, notes.handoverMs)
    const owned = new Map<number, Owned>()
    const delayed: number[] = []
    for (const partition of assignment.partitions) {
      const previous = this.#owned.get(partition)
      const state = this.#slices.state(partition)
      if (previous && (state === 'running' || state === 'waiting')) {
        // Kept: same token, and a pending handover delay keeps its original end.
        owned.set(partition, previous)
        continue
      }
      // Still stopping here (nobody else can have it), or handed over by a member of the previous generation.
      const clean = state === 'stopping' || notes.cleanAt[String(partition)] === assignment.generation - 1
      if (!clean) delayed.push(partition)
      owned.set(partition, {
        token: fencingToken(notes.epoch, assignment.generation),
        startAt: clean ? now : now + delayMs,
      })
    }
    const gained = assignment.partitions.filter((p) => !this.#owned.has(p))
    const lost = [...this.#owned.keys()].filter((p) => !owned.has(p))
    this.#heldBack = new Set(notes.heldBack)
    // Renew only now that the new assignment is in place: a renewal first would restart the old one.
    if (assignment.leaseFrom !== undefined) this.#lease.renew(assignment.leaseFrom)
    this.#logger.info('assignment', {
      generation: assignment.generation,
      epoch: notes.epoch,
      partitions: assignment.partitions.length,
      gained,
      lost,
      delayed,
      heldBack: notes.heldBack.length,
    })
    this.#applyOwnership(owned, assignment.generation)
    this.#maybeHandOver()
  }

  // --- internals ---

  #applyOwnership(owned: Map<number, Owned>, generation: number): void {
    this.#owned = owned
    this.#generation = generation
    this.#released = new Set()
    this.#armLeaseTimer()
    this.#reconcile()
  }

  #report(): MemberReport {
    const now = monotonicMs()
    const live = this.#slices.live()
    this.#reportedLive = new Set(live)
    // A claim tells the leader "nothing of it runs here, and nothing of it runs anywhere else either":
    // only true once the handover delay of our own acquisition has passed (or it ran here).
    const claims = new Set(this.#released)
    for (const [partition, owned] of this.#owned) if (owned.startAt <= now) claims.add(partition)
    return {
      v: 2,
      nodeId: this.#settings.nodeId,
      role: 'worker',
      leaving: this.#leaving,
      generation: this.#generation,
      claims: [...claims].sort((a, b) => a - b),
      live,
      partitions: this.#settings.partitions,
      fingerprint: this.options.processes.fingerprint,
      handoverMs: this.#settings.handoverDelayMs,
      epoch: this.#epoch,
    }
  }

  /** Brings the slices in line with ownership and the lease. Idempotent; called on every change. */
  #reconcile(): void {
    const now = monotonicMs()
    const leaseOk = this.#lease.valid(now) && !this.#leaving
    for (const partition of this.#slices.live()) {
      if (!leaseOk) void this.#slices.stop(partition, this.#leaving ? 'leaving' : 'lease-lost')
      else if (!this.#owned.has(partition)) void this.#slices.stop(partition, 'revoked')
    }
    for (const [partition, owned] of this.#owned) {
      const state = this.#slices.state(partition)
      if (state === 'stopping') continue
      if (state === 'running') {
        if (leaseOk) this.#slices.sync(partition, this.options.processes.byPartition(partition))
        continue
      }
      if (!leaseOk) continue
      // A join is in flight and did not report this partition live: the answer may give it away.
      if (this.#reportedLive && !this.#reportedLive.has(partition)) continue
      if (owned.startAt > now) {
        if (state === undefined) this.#slices.wait(partition, owned.token)
        this.#armStartTimer(partition, owned.startAt - now)
        continue
      }
      this.#slices.run(partition, owned.token, this.options.processes.byPartition(partition))
    }
    this.#publishToGuard()
  }

  #sliceStopped(partition: number, ran: boolean): void {
    // A slice that only waited out its handover delay proves nothing about its previous owner.
    if (ran) this.#released.add(partition)
    this.#publishToGuard()
    this.#maybeHandOver()
    this.#reconcile()
  }

  /**
   * The leader held back partitions because they ran here. Once none of them runs here any more,
   * whatever stopped them (revocation, lost lease, new member id), a new round lets their new
   * owners start them; the membership retries the round until it happened.
   */
  #maybeHandOver(): void {
    if (this.#heldBack.size === 0 || this.#leaving) return
    for (const partition of this.#heldBack) if (this.#slices.has(partition)) return
    this.#logger.info('held-back partitions stopped here; starting a round to hand them over', {
      partitions: [...this.#heldBack],
    })
    this.#heldBack = new Set()
    void this.#membership.requestRebalance()
  }

  #armStartTimer(partition: number, delayMs: number): void {
    if (this.#startTimers.has(partition)) return
    const timer = setTimeout(() => {
      this.#startTimers.delete(partition)
      this.#reconcile()
    }, Math.ceil(delayMs) + 1)
    this.#startTimers.set(partition, timer)
  }

  #armLeaseTimer(): void {
    clearTimeout(this.#leaseTimer)
    const remaining = this.#lease.deadline - monotonicMs()
    this.#leaseTimer = setTimeout(
      () => {
        if (!this.#lease.valid() && this.#slices.activeCount() > 0) {
          this.#logger.warn('lease ran out without a renewal; stopping every slice', {
            leaseMs: this.#settings.leaseMs,
          })
        }
        if (!this.#lease.valid()) this.#leaseEnded()
        this.#reconcile()
      },
      Math.max(0, Math.ceil(remaining) + 1),
    )
  }

  /** Counts a lease that ran out or was revoked while held, unless this node is leaving. */
  #leaseEnded(): void {
    if (this.#leaseHeld && !this.#leaving) this.#counters.leaseLosses++
    this.#leaseHeld = false
  }

  #publishToGuard(): void {
    this.#guard.update(this.#lease.deadline, this.#slices.activeCount())
  }

  #clearTimers(): void {
    clearTimeout(this.#leaseTimer)
    for (const timer of this.#startTimers.values()) clearTimeout(timer)
    this.#startTimers.clear()
  }
}
