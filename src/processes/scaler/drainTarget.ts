import type { ReportedNode } from '../state/status.js'
import { isArchiving } from './signals.js'

/**
 * Which node a scale-in drains, pure: the least-loaded archiving node whose instance is in service
 * in the group. Nodes running a singleton (the master, the scaler) come last: draining them would
 * move the singleton too, and the scaler would lose its history.
 */

/** How loaded a node is, for picking a drain target and placing archivers (lower: less loaded). */
export function nodeLoad(node: ReportedNode, archiverGroup: string): number {
  const archivers = node.processes.filter((p) => p.group === archiverGroup).length
  const reading = node.partitions.reduce((sum, p) => sum + p.recordsInPerSec, 0)
  // Archivers count most (each holds partitions and buffers), then throughput (per 10k rec/s), then CPU.
  return archivers + reading / 10_000 + node.cpuPercent / 100
}

export function pickDrainTarget(
  nodes: readonly ReportedNode[],
  inService: ReadonlySet<string>,
  groups: { readonly archiver: string; readonly singletons: readonly string[] },
): ReportedNode | undefined {
  const singleton = (n: ReportedNode) => n.processes.some((p) => groups.singletons.includes(p.group))
  return nodes
    .filter((n) => isArchiving(n) && n.instanceId !== null && inService.has(n.instanceId))
    .sort(
      (a, b) =>
        Number(singleton(a)) - Number(singleton(b)) ||
        nodeLoad(a, groups.archiver) - nodeLoad(b, groups.archiver) ||
        a.nodeId.localeCompare(b.nodeId),
    )[0]
}
