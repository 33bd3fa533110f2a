import { monotonicMs } from '../../coordination/lease.js'
import type { Logger } from '../../util/logging.js'
import type { ReportedNode } from '../state/status.js'
import type { CapacityProvider, GroupState } from './autoScaling.js'
import type { AwsCalls } from './awsCalls.js'
import type { CommandsStore } from './commands.js'
import type { ScalerConfig } from './config.js'
import type { ScalerEvent } from './events.js'

/** An instance that is leaving its group (terminating or detaching): no longer counted as in it. */
export const leavingGroup = (lifecycleState: string): boolean => /^(Terminat|Detach)/.test(lifecycleState)

export interface DrainProgressDeps {
  readonly commands: Pick<CommandsStore, 'drains' | 'deleteDrain'>
  readonly aws: AwsCalls
  /** Instances this scaler terminated (a drained node lingers until its machine stops); added to here. */
  readonly terminated: Set<string>
  readonly isOwner: () => boolean
  /** Bounds a Kafka call of the round. */
  readonly bounded: <T>(work: Promise<T>) => Promise<T>
  /** Writes an event (best effort). */
  readonly emit: (event: ScalerEvent) => Promise<void>
  readonly logger: Logger
  /** Heard when a drained node's instance was terminated (a scale-in, for the cooldown). */
  readonly onTerminated: (atMs: number) => void
}

/**
 * Moves every drain along, once per round: terminates a drained node's instance, clears commands of
 * nodes that are gone, cancels drains that took too long. True while a drain is under way (one at a
 * time). Never terminates a node that did not report itself drained.
 */
export async function progressDrains(
  deps: DrainProgressDeps,
  config: ScalerConfig,
  capacity: CapacityProvider,
  group: GroupState,
  nodes: readonly ReportedNode[],
): Promise<boolean> {
  const { commands, terminated, logger } = deps
  let active = false
  for (const command of commands.drains()) {
    const node = nodes.find((n) => n.nodeId === command.nodeId)
    const inGroup =
      command.instanceId !== null &&
      group.instances.some((i) => i.instanceId === command.instanceId && !leavingGroup(i.lifecycleState))
    const ageMs = Date.now() - Date.parse(command.requestedAt)
    if (node === undefined || (node.lost && !inGroup)) {
      // The node is gone (its status tombstoned, or silent with its instance gone): nothing to wait for.
      if (deps.isOwner()) await deps.bounded(commands.deleteDrain(command.nodeId))
      continue
    }
    const drained = node.drain?.requestId === command.requestId && node.drain.state === 'drained'
    if (drained && inGroup && command.instanceId !== null && !terminated.has(command.instanceId)) {
      const instanceId = command.instanceId
      const result = await deps.aws.run(config, (signal) => capacity.terminate(instanceId, signal))
      if (result.ok) {
        terminated.add(instanceId)
        deps.onTerminated(monotonicMs())
        logger.info('drained node terminated', { node: node.nodeId, instanceId })
        await deps.emit({ type: 'instance-terminated', target: node.nodeId, instanceId, group: group.name })
      }
      active = true
      continue
    }
    if (
      ageMs > config.drainTimeoutMs &&
      (!drained || !inGroup) &&
      !terminated.has(command.instanceId ?? '')
    ) {
      // Never terminate a node that did not report drained: cancel, and it archives again.
      const reason = drained
        ? 'drained, but its instance is not in the group'
        : `not drained within ${config.drainTimeoutMs} ms`
      if (deps.isOwner()) await deps.bounded(commands.deleteDrain(command.nodeId))
      logger.warn('drain cancelled', { node: node.nodeId, reason })
      await deps.emit({ type: 'drain-cancelled', target: node.nodeId, requestId: command.requestId, reason })
      continue
    }
    active = true
  }
  return active
}
