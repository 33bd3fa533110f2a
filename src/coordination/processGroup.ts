import type { Logger } from '../util/logging.js'
import type { Assignment, GroupMembership, MembershipListener } from './groupMembership.js'
import { Lease, monotonicMs } from './lease.js'
import type { MemberReport } from './memberProtocol.js'
import type { Process, ProcessFailure, RunningProcess } from './process.js'
import type { ResolvedSettings } from './settings.js'
import { SliceTable, type StopReason } from './sliceTable.js'
import { StallGuard } from './stallGuard.js'

/** The processes of one list, by key, each with its partition. */
export interface KeyedProcesses {
  byPartition(partition: number): ReadonlyMap<string, Process>
  subscribe(listener: () => void): () => void
}

interface Owned {
  /** Fencing token: the generation in which this node acquired the partition. */
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
  #memberId: string | undefined
  #released = new Set<number>()
  #leaving = false
  #leaseTimer: NodeJS.Timeout | undefined
  #startTimers = new Map<number, NodeJS.Timeout>()
  #unsubscribe: (() => void) | undefined

  constructor(private readonly options: ProcessGroupOptions) {
    this.#settings = options.settings
    this.#logger = options.logger
    this.#lease = new Lease(this.#settings.leaseMs)
    this.#guard = new StallGuard(options.name, this.#settings.maxStopMs + this.#settings.leaseMarginMs)
    this.#slices = new SliceTable({
      maxStopMs: this.#settings.maxStopMs,
      logger: this.#logger,
      isLeaseValid: () => this.#lease.valid(),
      onFailure: options.onFailure,
      onSliceStopped: (partition, reason) => this.#sliceStopped(partition, reason),
      onInstanceRetired: () => this.#reconcile(),
      onSliceActive: () => this.#publishToGuard(),
      onStuck: (partition, key) => {
        this.#logger.error(
          'process did not stop within maxStopMs; ending this node so no second instance can overlap',
          {
            partition,
            key,
            maxStopMs: this.#settings.maxStopMs,
          },
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
    if (hadWork) await this.#membership.requestRebalance()
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

  get generation(): number {
    return this.#generation
  }

  // --- MembershipListener ---

  onLeaseRenewed(sentAt: number): void {
    this.#logger.debug('lease renewal', { sentAt, deadline: sentAt + this.#settings.leaseMs })
    const wasValid = this.#lease.valid()
    this.#lease.renew(sentAt)
    this.#armLeaseTimer()
    if (!wasValid && this.#lease.valid()) {
      this.#logger.info('lease renewed', { leaseMs: this.#settings.leaseMs })
      this.#reconcile()
    }
    this.#publishToGuard()
  }

  onLost(reason: string): void {
    // Our own stop disconnects the consumer too: that is not a loss worth a warning.
    if (!this.#leaving && (this.#lease.valid() || this.#slices.live().length > 0)) {
      this.#logger.warn('group membership lost; stopping every slice', { reason })
    }
    this.#lease.revoke()
    this.#reconcile()
  }

  onAssignment(assignment: Assignment): void {
    const now = monotonicMs()
    if (this.#memberId !== undefined && assignment.memberId !== this.#memberId) {
      // We were out of the group in between: whatever we still run is suspect.
      this.#logger.warn('rejoined with a new member id; stopping every slice first', {
        memberId: assignment.memberId,
      })
      void this.#slices.stopAll('lease-lost')
    }
    this.#memberId = assignment.memberId
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
      const clean =
        state === 'stopping' || assignment.notes?.cleanAt[String(partition)] === assignment.generation - 1
      if (!clean) delayed.push(partition)
      owned.set(partition, {
        token: assignment.generation,
        startAt: clean ? now : now + this.#settings.handoverDelayMs,
      })
    }
    const lost = [...this.#owned.keys()].filter((p) => !owned.has(p))
    const gained = assignment.partitions.filter((p) => !this.#owned.has(p))
    this.#owned = owned
    this.#generation = assignment.generation
    this.#released = new Set()
    // Renew only now that the new assignment is in place: a renewal first would restart the old one.
    if (assignment.leaseFrom !== undefined) this.#lease.renew(assignment.leaseFrom)
    this.#armLeaseTimer()
    this.#logger.info('assignment', {
      generation: assignment.generation,
      partitions: assignment.partitions.length,
      gained,
      lost,
      delayed,
      heldBack: assignment.notes?.heldBack.length ?? 0,
    })
    this.#reconcile()
  }

  // --- internals ---

  #report(): MemberReport {
    const live = this.#slices.live()
    return {
      v: 1,
      nodeId: this.#settings.nodeId,
      role: 'worker',
      leaving: this.#leaving,
      generation: this.#generation,
      claims: [...new Set([...this.#owned.keys(), ...this.#released])].sort((a, b) => a - b),
      live,
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
      if (owned.startAt > now) {
        if (state === undefined) this.#slices.wait(partition, owned.token)
        this.#armStartTimer(partition, owned.startAt - now)
        continue
      }
      this.#slices.run(partition, owned.token, this.options.processes.byPartition(partition))
    }
    this.#publishToGuard()
  }

  #sliceStopped(partition: number, reason: StopReason): void {
    this.#released.add(partition)
    this.#publishToGuard()
    if (reason === 'revoked' && !this.#leaving) {
      // The leader held this partition back while we ran it; a new round lets its new owner start it.
      void this.#membership.requestRebalance()
    }
    this.#reconcile()
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
          this.#logger.warn('lease ran out without a successful heartbeat; stopping every slice', {
            leaseMs: this.#settings.leaseMs,
          })
        }
        this.#reconcile()
      },
      Math.max(0, Math.ceil(remaining) + 1),
    )
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
