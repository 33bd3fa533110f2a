import { randomUUID } from 'node:crypto'
import { monotonicMs } from '../../coordination/lease.js'
import type { Process, ProcessContext } from '../../coordination/process.js'
import type { KafkaClient } from '../../kafka/index.js'
import { messageOf } from '../../util/errors.js'
import { untilAborted, withTimeout } from '../../util/timeout.js'
import type { EventLog } from '../state/eventLog.js'
import type { ReportedNode } from '../state/status.js'
import type { ConfigStore, StatusView } from '../state/stores.js'
import type { CapacityProvider, GroupState } from './autoScaling.js'
import { AwsCalls } from './awsCalls.js'
import type { CommandsStore, ScalingRecommendation } from './commands.js'
import type { ScalerConfig } from './config.js'
import type { ScalerConfigSource } from './configStore.js'
import { type Bounds, type Decision, decide, type Sample } from './decision.js'
import { type DrainProgressDeps, leavingGroup, progressDrains } from './drainProgress.js'
import { pickDrainTarget } from './drainTarget.js'
import type { ScalerEvent } from './events.js'
import { isArchiving, measure, type Previous } from './signals.js'
import { sizeTopics } from './topicSizing.js'

export interface ScalerOptions {
  readonly client: Pick<KafkaClient, 'partitionCount' | 'endOffsets' | 'groupLag'>
  readonly cluster: string
  readonly configs: ConfigStore
  readonly scalerConfig: ScalerConfigSource
  readonly status: StatusView
  readonly commands: CommandsStore
  readonly events: EventLog
  /** The Auto Scaling group to act on; undefined: recommend only (no AWS call is ever made). */
  readonly capacity: CapacityProvider | undefined
  /** Partitions of the technical topic (archiver keys hash onto them). */
  readonly technicalPartitions: number
  readonly groups: { readonly archiver: string; readonly singletons: readonly string[] }
  /** The node this scaler runs on (named in its decisions). */
  readonly nodeId: string
}

/** How long one Kafka call of a round may take (a broker outage must not stall the scaler). */
const kafkaCallBoundMs = 10_000
/** A decision unchanged for this many rounds is written again, so `decidedAt` stays fresh. */
const rewriteEveryRounds = 10

/** What the group's own settings put at risk; shown in `GET /scaling` and written once as events. */
export function groupWarnings(group: GroupState): string[] {
  return group.protectsNewInstances
    ? []
    : [
        `Auto Scaling group ${group.name} does not set NewInstancesProtectedFromScaleIn: until the scaler protects a new instance (its next round), the group's own scale-in may end that node without a drain; set it on the group`,
      ]
}

/**
 * The singleton scaler, run through the core in its own group (`<cluster>-scaler`). Every interval:
 * measure (signals.ts), size topics with parallelism `auto` (topicSizing.ts), read the group, move
 * drains along, decide (decision.ts), act, and publish the decision for `GET /scaling`. Its history
 * is in memory: a scaler that takes over starts a new one, and counts its own start as an action for
 * the scale-in cooldown, so a failover never causes a hasty scale-in.
 */
export function scalerProcess(options: ScalerOptions): Process {
  return async (ctx) => {
    await new ScalerRun(options, ctx).run()
  }
}

class ScalerRun {
  readonly #history: Sample[] = []
  #previous: Previous | undefined
  readonly #startedAt = monotonicMs()
  #lastOutAt: number | undefined
  #lastInAt: number | undefined
  /** Recommend only: the capacity recommended last. */
  #recommended: number | undefined
  #warnings = new Set<string>()
  #lastWritten: { json: string; round: number } | undefined
  #round = 0
  readonly #topicChangeAt = new Map<string, number>()
  /** Instances this scaler terminated (a drained node lingers until its machine stops). */
  readonly #terminated = new Set<string>()
  readonly #aws: AwsCalls
  readonly #drains: DrainProgressDeps

  constructor(
    private readonly o: ScalerOptions,
    private readonly ctx: ProcessContext,
  ) {
    this.#aws = new AwsCalls({
      signal: ctx.signal,
      isOwner: () => ctx.isOwner(),
      logger: ctx.logger,
      emit: (event) => this.#emit(event),
    })
    this.#drains = {
      commands: o.commands,
      aws: this.#aws,
      terminated: this.#terminated,
      isOwner: () => ctx.isOwner(),
      bounded: this.#bounded,
      emit: (event) => this.#emit(event),
      logger: ctx.logger,
      onTerminated: (atMs) => {
        this.#lastInAt = atMs
      },
    }
  }

  #bounded = <T>(work: Promise<T>): Promise<T> =>
    untilAborted(withTimeout(work, kafkaCallBoundMs, 'scaler Kafka call'), this.ctx.signal)

  /** Writes an event, bounded; events are best effort, so a failure is dropped. */
  #emit(event: ScalerEvent): Promise<void> {
    return this.#bounded(this.o.events.emit(event)).catch(() => {})
  }

  async run(): Promise<void> {
    const actsOnAws = this.o.capacity !== undefined
    this.ctx.logger.info('scaler running', {
      fencingToken: this.ctx.fencingToken,
      group: this.o.capacity?.group ?? null,
    })
    await this.#emit({ type: 'scaler-started', fencingToken: this.ctx.fencingToken, actsOnAws })
    while (!this.ctx.signal.aborted) {
      const config = this.o.scalerConfig.get()
      try {
        await this.#roundOnce(config)
      } catch (error) {
        if (this.ctx.signal.aborted) break
        this.ctx.logger.warn('scaler round failed; trying again next interval', { error: messageOf(error) })
      }
      await this.ctx.sleep(config.intervalMs)
    }
  }

  async #roundOnce(config: ScalerConfig): Promise<void> {
    this.#round++
    const now = monotonicMs()
    const nodes = this.o.status.nodes()
    const configs = this.o.configs.list()
    const measured = await measure(
      this.o.client,
      this.o.cluster,
      configs,
      nodes,
      this.#previous,
      now,
      this.#bounded,
    )
    this.#previous = { at: now, topics: measured.topics, lags: measured.lags }
    this.#history.push(measured.sample)
    const keep = Math.max(config.calmIntervals, config.growingIntervals + 1) + 1
    if (this.#history.length > keep) this.#history.splice(0, this.#history.length - keep)
    const archiving = nodes.filter(isArchiving)

    const capacity = config.mode === 'auto' ? this.o.capacity : undefined
    let group: GroupState | undefined
    let awsProblem: string | undefined
    if (capacity !== undefined) {
      const result = await this.#aws.run(config, (signal) => capacity.describe(signal))
      if (result.ok) {
        group = result.value
        await this.#protect(config, capacity, group)
      } else awsProblem = result.problem
    }

    await sizeTopics({
      configs,
      commands: this.o.commands,
      events: this.o.events,
      history: this.#history,
      measured,
      archiving,
      archiverGroup: this.o.groups.archiver,
      technicalPartitions: this.o.technicalPartitions,
      config,
      now,
      changedAt: this.#topicChangeAt,
      isOwner: () => this.ctx.isOwner(),
      bounded: this.#bounded,
      logger: this.ctx.logger,
    })

    const configBounds: Bounds = {
      min: config.minNodes,
      max: config.maxNodes,
      source: `config ${config.minNodes}..${config.maxNodes}`,
    }
    if (config.mode === 'off') {
      return this.#publish(
        config,
        configBounds,
        archiving,
        { action: 'hold', desired: archiving.length, reason: 'scaler mode off', warnings: [] },
        false,
      )
    }
    if (capacity !== undefined && group === undefined) {
      const reason = `cannot read the Auto Scaling group: ${awsProblem ?? 'unknown'}`
      return this.#publish(
        config,
        configBounds,
        archiving,
        { action: 'hold', desired: archiving.length, reason, warnings: [] },
        true,
      )
    }
    const bounds: Bounds = group
      ? {
          min: Math.max(group.min, config.minNodes),
          max: Math.min(group.max, config.maxNodes),
          source: `group ${group.name} ${group.min}..${group.max}, config ${config.minNodes}..${config.maxNodes}`,
        }
      : configBounds
    const draining =
      capacity !== undefined && group !== undefined
        ? await progressDrains(this.#drains, config, capacity, group, nodes)
        : false
    this.#recommended ??= Math.max(1, archiving.length)
    const desired = group?.desired ?? this.#recommended
    const decision = decide(
      this.#history,
      { desired, draining, lastOutAt: this.#lastOutAt, lastInAt: this.#lastInAt, startedAt: this.#startedAt },
      bounds,
      config,
      now,
    )
    const done = await this.#execute(config, decision, capacity, group, archiving, nodes)
    const setup = group === undefined ? [] : groupWarnings(group)
    await this.#publish(
      config,
      bounds,
      archiving,
      { ...done, warnings: [...done.warnings, ...setup] },
      capacity !== undefined,
    )
  }

  /** Protects the group's instances from its own scale-in: only a drained node is ever terminated. */
  async #protect(config: ScalerConfig, capacity: CapacityProvider, group: GroupState): Promise<void> {
    const unprotected = group.instances
      .filter((i) => !i.protectedFromScaleIn && !leavingGroup(i.lifecycleState))
      .map((i) => i.instanceId)
    if (unprotected.length === 0) return
    const result = await this.#aws.run(config, (signal) => capacity.protect(unprotected, signal))
    if (result.ok) {
      await this.#emit({ type: 'instances-protected', instanceIds: unprotected, group: group.name })
    }
  }

  /** An instance in service in the group that no node (live, draining or lost) reports as its own. */
  #unjoined(group: GroupState, nodes: readonly ReportedNode[]): string | undefined {
    const claimed = new Set(nodes.map((n) => n.instanceId))
    return group.instances.find(
      (i) =>
        i.lifecycleState === 'InService' && !claimed.has(i.instanceId) && !this.#terminated.has(i.instanceId),
    )?.instanceId
  }

  /** Acts on a decision; what it could not do becomes a hold with the reason. */
  async #execute(
    config: ScalerConfig,
    decision: Decision,
    capacity: CapacityProvider | undefined,
    group: GroupState | undefined,
    archiving: readonly ReportedNode[],
    nodes: readonly ReportedNode[],
  ): Promise<Decision> {
    const from = group?.desired ?? this.#recommended ?? archiving.length
    const held = (reason: string): Decision => ({
      action: 'hold',
      desired: from,
      reason,
      warnings: decision.warnings,
    })
    if (decision.action === 'hold') return decision
    if (!this.ctx.isOwner()) return held('not the scaler any more')
    if (decision.action === 'out' && capacity !== undefined && group !== undefined) {
      const desired = Math.min(decision.desired, group.max)
      const result = await this.#aws.run(config, (signal) => capacity.setDesired(desired, signal))
      if (!result.ok) return held(result.problem)
      await this.#emit({ type: 'capacity-set', desired, group: group.name })
    }
    if (
      decision.action === 'in' &&
      decision.by === 'unjoined' &&
      capacity !== undefined &&
      group !== undefined
    ) {
      const unjoined = this.#unjoined(group, nodes)
      if (unjoined === undefined)
        return held(`${decision.reason}; but every instance in ${group.name} has a node`)
      const result = await this.#aws.run(config, (signal) => capacity.terminate(unjoined, signal))
      if (!result.ok) return held(result.problem)
      this.#terminated.add(unjoined)
      await this.#emit({
        type: 'unjoined-instance-terminated',
        instanceId: unjoined,
        group: group.name,
        joinTimeoutMs: config.joinTimeoutMs,
      })
    } else if (decision.action === 'in' && capacity !== undefined && group !== undefined) {
      const inService = new Set(
        group.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.instanceId),
      )
      const target = pickDrainTarget(archiving, inService, this.o.groups)
      if (target === undefined)
        return held(
          `${decision.reason}; but no archiving node has an instance in service in ${group.name} to drain`,
        )
      const requestId = randomUUID()
      await this.#bounded(
        this.o.commands.putDrain({
          version: 1,
          nodeId: target.nodeId,
          requestId,
          instanceId: target.instanceId,
          reason: decision.reason,
          requestedAt: new Date().toISOString(),
          fencingToken: this.ctx.fencingToken,
        }),
      )
      await this.#emit({
        type: 'drain-requested',
        target: target.nodeId,
        requestId,
        instanceId: target.instanceId,
        reason: decision.reason,
      })
    }
    if (decision.action === 'out') this.#lastOutAt = monotonicMs()
    else this.#lastInAt = monotonicMs()
    if (capacity === undefined) this.#recommended = decision.desired
    this.ctx.logger.info('scaling decision', {
      action: decision.action,
      from,
      to: decision.desired,
      reason: decision.reason,
    })
    await this.#emit({
      type: 'scaling-decision',
      action: decision.action,
      from,
      to: decision.desired,
      reason: decision.reason,
    })
    return decision
  }

  /** Writes the decision for `GET /scaling` (when it changed, or now and then), and new warnings as events. */
  async #publish(
    config: ScalerConfig,
    bounds: Bounds,
    archiving: readonly ReportedNode[],
    decision: Decision,
    actsOnAws: boolean,
  ): Promise<void> {
    // A warning is news when its kind is: the same one with a new lag figure is not another event.
    const kind = (warning: string) => warning.replace(/\d[\d.,]*/g, '#')
    const fresh = decision.warnings.filter((w) => !this.#warnings.has(kind(w)))
    this.#warnings = new Set(decision.warnings.map(kind))
    for (const warning of fresh) {
      this.ctx.logger.warn('scaling warning', { warning })
      await this.#emit({ type: 'scaling-warning', reason: warning })
    }
    const recommendation: Omit<ScalingRecommendation, 'decidedAt'> = {
      recommendedReplicas: decision.desired,
      currentReplicas: archiving.length,
      action: decision.action,
      reason: decision.reason,
      mode: config.mode,
      actsOnAws,
      minReplicas: Math.min(bounds.min, bounds.max),
      maxReplicas: bounds.max,
      warnings: [...decision.warnings],
      scalerNode: this.o.nodeId,
    }
    const json = JSON.stringify(recommendation)
    if (this.#lastWritten?.json === json && this.#round - this.#lastWritten.round < rewriteEveryRounds) return
    if (!this.ctx.isOwner()) return
    await this.#bounded(
      this.o.commands.putDecision({ ...recommendation, decidedAt: new Date().toISOString() }),
    )
    this.#lastWritten = { json, round: this.#round }
  }
}
