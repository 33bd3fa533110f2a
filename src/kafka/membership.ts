import { AssignerProtocol, type Consumer, type Kafka, type PartitionAssigner } from 'kafkajs'
import { planAssignment } from '../coordination/assignmentPlan.js'
import type {
  Assignment,
  EpochStore,
  GroupMembership,
  MembershipOptions,
} from '../coordination/groupMembership.js'
import { monotonicSentAt } from '../coordination/lease.js'
import {
  type AssignmentNotes,
  decideEpoch,
  decodeNotesTopics,
  decodeReport,
  encodeReport,
  type MemberReport,
  notesTopics,
} from '../coordination/memberProtocol.js'
import type { Logger } from '../util/logging.js'
import { sleep } from '../util/sleep.js'
import { settledWithin } from '../util/timeout.js'
import { fatalMembershipError } from './fatalErrors.js'
import { RebalanceHeartbeats } from './rebalanceHeartbeats.js'

const protocolName = 'kdp-v2'
const groupApis = new Set(['Heartbeat', 'JoinGroup', 'SyncGroup'])
/** How long a stop waits for a LeaveGroup (the group notices a silent member after the session anyway). */
const leaveBoundMs = 3000

/** The partition assigner every member (and trigger) runs; only the leader's `assign` is used. */
function kdpAssigner(
  options: MembershipOptions,
  report: () => MemberReport,
  epochs: EpochStore,
  logger: Logger,
  onJoin: () => void,
): PartitionAssigner {
  return () => ({
    name: protocolName,
    version: 2,
    protocol: ({ topics }) => {
      // kafkajs calls this synchronously right before it sends JoinGroup.
      const metadata = AssignerProtocol.MemberMetadata.encode({
        version: 2,
        topics,
        userData: encodeReport(report()),
      })
      onJoin()
      return { name: protocolName, metadata }
    },
    assign: async ({ members }) => {
      const planMembers = members.map(({ memberId, memberMetadata }) => ({
        memberId,
        report: decodeReport(AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData),
      }))
      const reports = planMembers.flatMap((m) => (m.report ? [m.report] : []))
      const epoch = await decideEpoch(options.groupId, reports, epochs)
      const plan = planAssignment(options.partitions, planMembers)
      for (const alarm of plan.alarms) logger.error('assignment alarm', { alarm, group: options.groupId })
      for (const notice of plan.notices) logger.warn('assignment notice', { notice, group: options.groupId })
      logger.debug('assignment planned', { group: options.groupId, epoch, plan })
      return plan.assignments.map(({ memberId, partitions, cleanAt, heldBack, mismatch }) => {
        const notes: AssignmentNotes = {
          v: 2,
          cleanAt,
          heldBack: [...heldBack],
          epoch,
          handoverMs: plan.handoverMs,
          mismatch,
        }
        const assignment: Record<string, number[]> = { [options.topic]: [...partitions] }
        for (const topic of notesTopics(notes)) assignment[topic] = []
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 2,
            assignment,
            userData: Buffer.alloc(0),
          }),
        }
      })
    },
  })
}

/**
 * GroupMembership on kafkajs 2.2.4. The consumer subscribes to the technical topic only to be a
 * group member; it never receives records. Heartbeats go out from its fetch loop, so the fetch
 * wait is capped at the heartbeat interval; during a join, `RebalanceHeartbeats` sends them.
 */
export class KafkajsMembership implements GroupMembership {
  readonly #logger: Logger
  readonly #unsubscribeCrashLog: () => void
  readonly #joinBeats: RebalanceHeartbeats
  #consumer: Consumer | undefined
  /** Generation and notes of the join in progress (from RECEIVED_UNSUBSCRIBED_TOPICS), until its GROUP_JOIN. */
  #pending: { memberId: string; generation: number; notes: AssignmentNotes | undefined } | undefined
  /** The generation and member id of the last assignment handed to the listener. */
  #current: { generation: number; memberId: string } | undefined
  #lastSyncSentWall: number | undefined
  #lastHeartbeatSentWall: number | undefined
  /** True from a JoinGroup until its answer (or a failure): heartbeats go on the side connection. */
  #joining = false
  #generationWaiters = new Set<{ after: number; resolve: () => void }>()
  #triggerQueued: Promise<void> | undefined
  #triggerChain: Promise<void> = Promise.resolve()
  #stopped = false
  /** connect + subscribe + run of the worker consumer (run resolves after its first join attempt). */
  #running: Promise<void> = Promise.resolve()

  /** `onCrashLog` registers a listener of kafkajs's "Crash:" log line of this group (see client.ts). */
  constructor(
    private readonly kafka: Kafka,
    /** A client without the crash-log hook, for trigger members (their crash is not ours). */
    private readonly triggerKafka: () => Kafka,
    private readonly options: MembershipOptions,
    private readonly epochs: EpochStore,
    onCrashLog: (listener: () => void) => () => void,
  ) {
    this.#logger = options.logger
    this.#unsubscribeCrashLog = onCrashLog(() => options.listener.onLost('kafka client crash'))
    this.#joinBeats = new RebalanceHeartbeats(
      kafka,
      options.groupId,
      options.heartbeatIntervalMs * 2,
      this.#logger,
    )
  }

  #consumerFor(
    kafka: Kafka,
    role: 'worker' | 'trigger',
    report: () => MemberReport,
    onJoin: () => void,
  ): Consumer {
    const o = this.options
    return kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxWaitTimeInMs: o.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
      partitionAssigners: [kdpAssigner(o, report, this.epochs, this.#logger.child({ role }), onJoin)],
    })
  }

  async start(): Promise<void> {
    const consumer = this.#consumerFor(this.kafka, 'worker', this.options.report, () => this.#joinStarted())
    this.#consumer = consumer
    const { listener } = this.options
    const e = consumer.events
    let firstJoin: { resolve: () => void; reject: (error: Error) => void } | undefined
    const joined = new Promise<void>((resolve, reject) => {
      firstJoin = { resolve, reject }
    })
    consumer.on(e.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Heartbeat') this.#lastHeartbeatSentWall = payload.sentAt
      else if (payload.apiName === 'SyncGroup') this.#lastSyncSentWall = payload.sentAt
    })
    consumer.on(e.HEARTBEAT, ({ payload }) => {
      // Only a heartbeat of the generation and member whose assignment we hold extends the lease.
      const current = this.#current
      if (this.#lastHeartbeatSentWall === undefined || !current) return
      if (payload.groupGenerationId !== current.generation || payload.memberId !== current.memberId) return
      listener.onLeaseRenewed(monotonicSentAt(this.#lastHeartbeatSentWall), 'stable')
    })
    consumer.on(e.RECEIVED_UNSUBSCRIBED_TOPICS, ({ payload }) => {
      const notes = decodeNotesTopics(payload.topicsNotSubscribed)
      if (notes === undefined) this.#logger.error('assignment notes missing or undecodable')
      this.#pending = { memberId: payload.memberId, generation: payload.generationId, notes }
    })
    consumer.on(e.GROUP_JOIN, ({ payload }) => {
      this.#joining = false
      const pending = this.#pending
      this.#pending = undefined
      if (!pending || pending.memberId !== payload.memberId) {
        // Without the notes we do not know the generation, so we cannot hand out a fencing token.
        this.#logger.error(
          'joined without kdp assignment notes (is a non-kdp member in the group?); running nothing this round',
          { memberId: payload.memberId },
        )
        listener.onLost('join without notes')
        return
      }
      const assignment: Assignment = {
        leaseFrom: this.#lastSyncSentWall === undefined ? undefined : monotonicSentAt(this.#lastSyncSentWall),
        generation: pending.generation,
        memberId: payload.memberId,
        partitions: [...(payload.memberAssignment[this.options.topic] ?? [])].sort((a, b) => a - b),
        notes: pending.notes,
      }
      this.#current = { generation: assignment.generation, memberId: assignment.memberId }
      listener.onAssignment(assignment)
      for (const waiter of this.#generationWaiters) {
        if (assignment.generation > waiter.after) {
          this.#generationWaiters.delete(waiter)
          waiter.resolve()
        }
      }
      firstJoin?.resolve()
    })
    consumer.on(e.CRASH, ({ payload }) => {
      this.#joining = false
      if (!payload.restart) {
        const error = fatalMembershipError(this.options.groupId, payload.error)
        firstJoin?.reject(error)
        listener.onFatal(error)
      } else listener.onLost(`kafka client crashed: ${payload.error.message}`)
    })
    consumer.on(e.STOP, () => listener.onLost('consumer stopped'))
    consumer.on(e.DISCONNECT, () => listener.onLost('consumer disconnected'))
    consumer.on(e.REQUEST_TIMEOUT, ({ payload }) => {
      if (groupApis.has(payload.apiName)) listener.onLost(`${payload.apiName} request timed out`)
    })
    this.#running = (async () => {
      await consumer.connect()
      await consumer.subscribe({ topic: this.options.topic, fromBeginning: false })
      await consumer.run({ autoCommit: false, eachMessage: async () => {} })
    })()
    await this.#running
    await joined
  }

  /** A JoinGroup is about to go out: keep the lease with heartbeats on the side until its answer. */
  #joinStarted(): void {
    if (this.#joining || !this.#joinBeats.available) return
    this.#joining = true
    void this.#beatWhileJoining()
  }

  async #beatWhileJoining(): Promise<void> {
    const { listener, heartbeatIntervalMs } = this.options
    while (this.#joining && !this.#stopped) {
      const current = this.#current
      if (!current) break
      const sentWall = Date.now()
      const answer = await this.#joinBeats.beat(current.generation, current.memberId)
      if (!this.#joining || this.#current !== current) break
      if (answer === 'stable' || answer === 'rebalancing')
        listener.onLeaseRenewed(monotonicSentAt(sentWall), answer)
      else if (answer === 'unknown-member') {
        listener.onLost('the coordinator no longer knows this member')
        break
      }
      await sleep(heartbeatIntervalMs)
    }
  }

  /** Coalesces requests: at most one round is being made and one waits behind it. */
  requestRebalance(): Promise<void> {
    if (this.#triggerQueued) return this.#triggerQueued
    const next = this.#triggerChain.then(() => {
      this.#triggerQueued = undefined
      return this.#makeRound()
    })
    this.#triggerQueued = next
    this.#triggerChain = next.catch(() => {})
    return next
  }

  /** Starts trigger members until this member holds an assignment newer than the one it had. */
  async #makeRound(): Promise<void> {
    const after = this.#current?.generation ?? -1
    let happened = false
    const round = new Promise<void>((resolve) =>
      this.#generationWaiters.add({
        after,
        resolve: () => {
          happened = true
          resolve()
        },
      }),
    )
    for (let attempt = 1; !this.#stopped; attempt++) {
      await this.#runTrigger()
      // This member's own rejoin may complete a moment after the trigger's.
      await settledWithin(round, this.options.heartbeatIntervalMs * 3)
      if (happened || this.#stopped) return
      const delayMs = Math.min(30_000, 500 * 2 ** (attempt - 1))
      this.#logger.warn('the rebalance round did not happen; trying again', { attempt, delayMs })
      await sleep(delayMs)
    }
  }

  /** A short-lived member: its join makes every member rejoin (re-reporting what it runs); then it leaves. */
  async #runTrigger(): Promise<void> {
    if (this.#stopped) return
    const report = (): MemberReport => ({
      v: 2,
      nodeId: 'trigger',
      role: 'trigger',
      leaving: false,
      generation: -1,
      claims: [],
      live: [],
      partitions: this.options.partitions,
      fingerprint: 'trigger',
      handoverMs: 0,
      epoch: null,
    })
    const trigger = this.#consumerFor(this.triggerKafka(), 'trigger', report, () => {})
    let timer: NodeJS.Timeout | undefined
    try {
      const joined = new Promise<void>((resolve) => {
        trigger.on(trigger.events.GROUP_JOIN, () => resolve())
        trigger.on(trigger.events.CRASH, () => resolve())
        timer = setTimeout(resolve, this.options.rebalanceTimeoutMs + this.options.sessionTimeoutMs)
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
      // Never linger: a trigger that cannot say goodbye is expired by the coordinator after its session.
      await settledWithin(trigger.disconnect(), leaveBoundMs)
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#joining = false
    this.#unsubscribeCrashLog()
    for (const waiter of this.#generationWaiters) waiter.resolve()
    this.#generationWaiters.clear()
    await settledWithin(this.#triggerChain, leaveBoundMs)
    const consumer = this.#consumer
    await Promise.all([
      consumer ? settledWithin(consumer.disconnect(), leaveBoundMs) : undefined,
      this.#joinBeats.close(),
    ])
  }
}
