import type { Logger } from '../util/logging.js'
import type { AssignmentNotes, MemberReport } from './memberProtocol.js'

/** One completed join: this member's partitions in `generation`, and the leader's notes. */
export interface Assignment {
  readonly generation: number
  readonly memberId: string
  readonly partitions: readonly number[]
  /** undefined when the leader's notes were missing or undecodable: nothing may run this round. */
  readonly notes: AssignmentNotes | undefined
  /** Monotonic send time of the SyncGroup that delivered it: the lease counts from here. */
  readonly leaseFrom: number | undefined
}

/**
 * How a renewal was answered: `stable`, a heartbeat of a stable group (or the SyncGroup that made
 * it stable); `rebalancing`, a heartbeat answered REBALANCE_IN_PROGRESS (see Lease).
 */
export type RenewalKind = 'stable' | 'rebalancing'

/** What membership reports to the process group. */
export interface MembershipListener {
  /** A join completed. Applied together with its lease renewal, never one without the other. */
  onAssignment(assignment: Assignment): void
  /** The coordinator restarted this member's session for a request sent at `sentAt` (monotonic). */
  onLeaseRenewed(sentAt: number, kind: RenewalKind): void
  /** The member lost the group (client crash, coordinator unreachable): stop everything now. */
  onLost(reason: string): void
  /** The client failed in a way it will not retry (bad settings, not authorized): stop for good. */
  onFatal(error: Error): void
}

/**
 * The only thing kdp needs from a Kafka client: membership in one consumer group on the technical
 * topic, with kdp's own assignment. Kept small so kafkajs can be replaced.
 */
export interface GroupMembership {
  /** Joins the group; resolves after the first join completed, rejects on a fatal error before it. */
  start(): Promise<void>
  /**
   * Makes sure one more rebalance round completes after this call (every member re-reports what it
   * runs); retried until it did. Resolves once this member holds an assignment of a newer
   * generation, or the membership stopped. Concurrent calls share one round.
   */
  requestRebalance(): Promise<void>
  /** Leaves the group and disconnects, within a bound. */
  stop(): Promise<void>
}

/** Where fencing epochs come from (see memberProtocol.ts `fencingToken`). */
export interface EpochStore {
  /** A new epoch for `group`, larger than every epoch handed out for it before; durable once resolved. */
  next(group: string): Promise<number>
}

export interface MembershipOptions {
  readonly groupId: string
  readonly topic: string
  readonly partitions: number
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  readonly heartbeatIntervalMs: number
  /** Computed synchronously right before every JoinGroup. */
  readonly report: () => MemberReport
  readonly listener: MembershipListener
  readonly logger: Logger
}
