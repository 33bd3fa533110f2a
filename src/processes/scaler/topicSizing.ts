import type { Logger } from '../../util/logging.js'
import type { EventLog } from '../state/eventLog.js'
import type { ReportedNode } from '../state/status.js'
import type { TopicConfig } from '../state/topicConfig.js'
import type { CommandsStore } from './commands.js'
import type { ScalerConfig } from './config.js'
import type { Sample } from './decision.js'
import { nodeLoad } from './drainTarget.js'
import { autoInstances, placeSlots } from './parallelism.js'
import type { Bounded, Measured } from './signals.js'

export interface SizingInput {
  readonly configs: readonly TopicConfig[]
  readonly commands: CommandsStore
  readonly events: EventLog
  readonly history: readonly Sample[]
  readonly measured: Measured
  readonly archiving: readonly ReportedNode[]
  readonly archiverGroup: string
  readonly technicalPartitions: number
  readonly config: ScalerConfig
  readonly now: number
  /** When each topic's placement last changed (kept by the scaler between rounds). */
  readonly changedAt: Map<string, number>
  readonly isOwner: () => boolean
  readonly bounded: Bounded
  readonly logger: Logger
}

/**
 * One round of parallelism `auto`: for each such topic, the instance count (autoInstances) and the
 * slots of each sink (placeSlots), written as the topic's placement when they change; placements of
 * topics that are no longer `auto` are removed (they archive with their fixed parallelism again).
 */
export async function sizeTopics(input: SizingInput): Promise<void> {
  const { commands, config, now } = input
  const owners = new Map<number, string>()
  const load = new Map<string, number>()
  for (const node of input.archiving) {
    load.set(node.nodeId, nodeLoad(node, input.archiverGroup))
    for (const p of node.assignedPartitions[input.archiverGroup] ?? []) owners.set(p, node.nodeId)
  }
  const auto = new Set<string>()
  for (const topicConfig of input.configs) {
    const topic = topicConfig.topic
    if (topicConfig.parallelism !== 'auto' || topicConfig.paused || topicConfig.sinks.length === 0) continue
    auto.add(topic)
    const measure = input.measured.topics.get(topic)
    if (measure === undefined) continue
    const placement = commands.placementOf(topic)
    const current = placement?.instances ?? 1
    const lastChangeAt = input.changedAt.get(topic)
    const sized = autoInstances(
      {
        partitions: measure.partitions,
        nodes: input.archiving.length,
        current,
        history: input.history,
        topic,
        lastChangeAt,
        now,
      },
      config,
    )
    // A move restarts an archiver and rebalances its group: one per sink per few intervals at most.
    const settled =
      lastChangeAt === undefined || now - lastChangeAt >= config.growingIntervals * config.intervalMs
    const slots: Record<string, number[]> = {}
    const moves: Array<{ sink: string; from: number; to: number }> = []
    for (const sink of topicConfig.sinks) {
      const placed = placeSlots({
        topic,
        sink: sink.id,
        instances: sized.instances,
        current: placement?.slots[sink.id] ?? [0],
        owners,
        load,
        partitions: input.technicalPartitions,
        maxMoves: settled ? 1 : 0,
      })
      slots[sink.id] = placed.slots
      for (const move of placed.moved) moves.push({ sink: sink.id, ...move })
    }
    const unchanged =
      placement !== undefined &&
      placement.instances === sized.instances &&
      JSON.stringify(Object.entries(placement.slots).sort()) === JSON.stringify(Object.entries(slots).sort())
    if (unchanged || !input.isOwner()) continue
    await input.bounded(
      commands.putPlacement({
        version: 1,
        topic,
        instances: sized.instances,
        slots,
        reason: moves.length > 0 ? `spread over the nodes (${sized.reason})` : sized.reason,
        updatedAt: new Date().toISOString(),
      }),
    )
    input.changedAt.set(topic, now)
    if (sized.instances !== current) {
      input.logger.info('parallelism changed', {
        topic,
        from: current,
        to: sized.instances,
        reason: sized.reason,
      })
      await input
        .bounded(
          input.events.emit({
            type: 'parallelism-changed',
            topic,
            from: current,
            to: sized.instances,
            reason: sized.reason,
          }),
        )
        .catch(() => {})
    }
    for (const move of moves) {
      await input
        .bounded(
          input.events.emit({
            type: 'archiver-moved',
            topic,
            sink: move.sink,
            fromSlot: move.from,
            toSlot: move.to,
            reason: 'another node had two more instances of this topic',
          }),
        )
        .catch(() => {})
    }
  }
  for (const placement of commands.placements()) {
    if (!auto.has(placement.topic) && input.isOwner())
      await input.bounded(commands.deletePlacement(placement.topic))
  }
}
