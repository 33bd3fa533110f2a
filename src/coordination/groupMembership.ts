import type { Logger } from '../util/logging.js'
import type { AssignmentNotes, MemberReport } from './memberProtocol.js'

/** One completed join: this member's partitions in `generation`, and the leader's notes. */
export interface Assignment {
  readonly generation: number
  readonly memberId: string
  readonly partitions: readonly number[]
  /** undefined when the leader's notes were missing or undecodable: every acquisition is delayed. */
  readonly notes: AssignmentNotes | undefined
  /** Monotonic send time of the SyncGroup that delivered it: the lease counts from here. */
  readonly leaseFrom: number | undefined
}

/** What membership reports to the process group. */
export interface MembershipListener {
  /** A join completed. Applied together with its lease renewal, never one without the other. */
  onAssignment(assignment: Assignment): void
  /** A heartbeat of the current generation and member succeeded; `sentAt`: its monotonic send time. */
  onLeaseRenewed(sentAt: number): void
  /** The member lost the group (client crash, coordinator unreachable): stop everything now. */
  onLost(reason: string): void
}

/**
 * The only thing kdp needs from a Kafka client: membership in one consumer group on the technical
 * topic, with kdp's own assignment. Kept small so kafkajs can be replaced.
 */
export interface GroupMembership {
  /** Joins the group; resolves after the first join completed. */
  start(): Promise<void>
  /** Starts one more rebalance round (every member re-reports what it runs); resolves when it completed. */
  requestRebalance(): Promise<void>
  /** Leaves the group and disconnects. */
  stop(): Promise<void>
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
