import { AssignerProtocol, type Consumer, type Kafka, type PartitionAssigner } from 'kafkajs'
import { planAssignment } from '../coordination/assignmentPlan.js'
import type { Assignment, GroupMembership, MembershipOptions } from '../coordination/groupMembership.js'
import { monotonicMs } from '../coordination/lease.js'
import {
  type AssignmentNotes,
  decodeNotesTopic,
  decodeReport,
  encodeReport,
  type MemberReport,
  notesTopic,
  notesTopicPrefix,
} from '../coordination/memberProtocol.js'
import type { Logger } from '../util/logging.js'

const protocolName = 'kdp-v1'
const groupApis = new Set(['Heartbeat', 'JoinGroup', 'SyncGroup'])

/** The partition assigner every member (and trigger) runs; only the leader's `assign` is used. */
function kdpAssigner(
  options: MembershipOptions,
  report: () => MemberReport,
  logger: Logger,
): PartitionAssigner {
  return () => ({
    name: protocolName,
    version: 1,
    protocol: ({ topics }) => ({
      name: protocolName,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: encodeReport(report()),
      }),
    }),
    assign: async ({ members }) => {
      const planMembers = members.map(({ memberId, memberMetadata }) => ({
        memberId,
        report: decodeReport(AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData),
      }))
      const plan = planAssignment(options.partitions, planMembers)
      for (const alarm of plan.alarms) logger.error('assignment alarm', { alarm, group: options.groupId })
      logger.debug('assignment planned', { group: options.groupId, plan })
      return plan.assignments.map(({ memberId, partitions, cleanAt }) => {
        const notes: AssignmentNotes = { v: 1, cleanAt, heldBack: [...plan.heldBack] }
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: { [options.topic]: [...partitions], [notesTopic(notes)]: [] },
            userData: Buffer.alloc(0),
          }),
        }
      })
    },
  })
}

/** Monotonic send time of a request from kafkajs's REQUEST event (emitted right at completion). */
function sentAtMonotonic(sentAtWallMs: number): number {
  return monotonicMs() - Math.max(0, Date.now() - sentAtWallMs)
}

/**
 * GroupMembership on kafkajs 2.2.4. The consumer subscribes to the technical topic only to be a
 * group member; it never receives records. Heartbeats go out from its fetch loop, so the fetch
 * wait is capped at the heartbeat interval.
 */
export class KafkajsMembership implements GroupMembership {
  #consumer: Consumer | undefined
  /** Generation and notes of the join in progress (from RECEIVED_UNSUBSCRIBED_TOPICS), until its GROUP_JOIN. */
  #pending: { memberId: string; generation: number; notes: AssignmentNotes | undefined } | undefined
  /** The generation and member id of the last assignment handed to the listener. */
  #current: { generation: number; memberId: string } | undefined
  #lastSyncSentAt: number | undefined
  #lastHeartbeatSentAt: number | undefined
  #triggerQueued: Promise<void> | undefined
  #triggerChain: Promise<void> = Promise.resolve()
  #stopped = false

  readonly #logger: Logger
  readonly #unsubscribeCrashLog: () => void

  /** `onCrashLog` registers a listener of kafkajs's "Crash:" log line of this group (see client.ts). */
  constructor(
    private readonly kafka: Kafka,
    private readonly options: MembershipOptions,
    onCrashLog: (listener: () => void) => () => void,
  ) {
    this.#logger = options.logger
    this.#unsubscribeCrashLog = onCrashLog(() => options.listener.onLost('kafka client crash'))
  }

  #consumerFor(role: 'worker' | 'trigger', report: () => MemberReport): Consumer {
    const o = this.options
    return this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxWaitTimeInMs: o.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
      partitionAssigners: [kdpAssigner(o, report, this.#logger.child({ role }))],
    })
  }

  async start(): Promise<void> {
    const consumer = this.#consumerFor('worker', this.options.report)
    this.#consumer = consumer
    const { listener } = this.options
    const e = consumer.events
    consumer.on(e.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Heartbeat') this.#lastHeartbeatSentAt = sentAtMonotonic(payload.sentAt)
      else if (payload.apiName === 'SyncGroup') this.#lastSyncSentAt = sentAtMonotonic(payload.sentAt)
    })
    consumer.on(e.HEARTBEAT, ({ payload }) => {
      // Only a heartbeat of the generation and member whose assignment we hold extends the lease.
      const current = this.#current
      if (this.#lastHeartbeatSentAt === undefined || !current) return
      if (payload.groupGenerationId !== current.generation || payload.memberId !== current.memberId) return
      listener.onLeaseRenewed(this.#lastHeartbeatSentAt)
    })
    consumer.on(e.RECEIVED_UNSUBSCRIBED_TOPICS, ({ payload }) => {
      const topic = payload.topicsNotSubscribed.find((name) => name.startsWith(notesTopicPrefix))
      const notes = topic === undefined ? undefined : decodeNotesTopic(topic)
      if (topic !== undefined && notes === undefined)
        this.#logger.error('assignment notes did not decode; every acquisition waits the handover delay')
      this.#pending = { memberId: payload.memberId, generation: payload.generationId, notes }
    })
    consumer.on(e.GROUP_JOIN, ({ payload }) => {
      const generation = this.#pending
      this.#pending = undefined
      if (!generation || generation.memberId !== payload.memberId) {
        // Without the notes we do not know the generation, so we cannot hand out a fencing token.
        this.#logger.error(
          'joined without kdp assignment notes (is a non-kdp member in the group?); running nothing this round',
          {
            memberId: payload.memberId,
          },
        )
        listener.onLost('join without notes')
        return
      }
      const assignment: Assignment = {
        leaseFrom: this.#lastSyncSentAt,
        generation: generation.generation,
        memberId: payload.memberId,
        partitions: [...(payload.memberAssignment[this.options.topic] ?? [])].sort((a, b) => a - b),
        notes: generation.notes,
      }
      this.#current = { generation: assignment.generation, memberId: assignment.memberId }
      listener.onAssignment(assignment)
    })
    consumer.on(e.CRASH, ({ payload }) => listener.onLost(`kafka client crashed: ${payload.error.message}`))
    consumer.on(e.STOP, () => listener.onLost('consumer stopped'))
    consumer.on(e.DISCONNECT, () => listener.onLost('consumer disconnected'))
    consumer.on(e.REQUEST_TIMEOUT, ({ payload }) => {
      if (groupApis.has(payload.apiName)) listener.onLost(`${payload.apiName} request timed out`)
    })
    await consumer.connect()
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: false })
    await consumer.run({ autoCommit: false, eachMessage: async () => {} })
  }

  /** Coalesces requests: at most one trigger runs and one waits behind it. */
  requestRebalance(): Promise<void> {
    if (this.#triggerQueued) return this.#triggerQueued
    const next = this.#triggerChain.then(() => {
      this.#triggerQueued = undefined
      return this.#runTrigger()
    })
    this.#triggerQueued = next
    this.#triggerChain = next.catch(() => {})
    return next
  }

  /** A short-lived member: its join makes every member rejoin (re-reporting what it runs); then it leaves. */
  async #runTrigger(): Promise<void> {
    if (this.#stopped) return
    const report = (): MemberReport => ({
      v: 1,
      nodeId: 'trigger',
      role: 'trigger',
      leaving: false,
      generation: -1,
      claims: [],
      live: [],
    })
    const trigger = this.#consumerFor('trigger', report)
    let timer: NodeJS.Timeout | undefined
    try {
      const joined = new Promise<void>((resolve) => {
        trigger.on(trigger.events.GROUP_JOIN, () => resolve())
        timer = setTimeout(resolve, this.options.rebalanceTimeoutMs * 2)
      })
      await trigger.connect()
      await trigger.subscribe({ topic: this.options.topic })
      await trigger.run({ autoCommit: false, eachMessage: async () => {} })
      await joined
    } catch (error) {
      this.#logger.warn('rebalance trigger failed', {
        error: error instanceof Error ? error.message : String(error),
      })
    } finally {
      clearTimeout(timer)
      await trigger.disconnect().catch(() => {})
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#unsubscribeCrashLog()
    await this.#triggerChain
    await this.#consumer?.disconnect()
  }
}
