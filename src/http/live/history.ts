import type { ReportedNode } from '../../processes/state/stores.js'
import { type LagTotals, topicLag } from '../routes/lag.js'
import type { HistoryPoint } from './shapes.js'

/** Every topic's sums over the partitions the nodes report, at `at`. */
export function historyPoint(nodes: readonly ReportedNode[], at: Date): HistoryPoint {
  const names = new Set<string>()
  for (const node of nodes) for (const load of node.partitions) names.add(load.topic)
  const topics: Record<string, LagTotals> = {}
  for (const topic of [...names].sort()) {
    const lag = topicLag(nodes, topic, true)
    if (lag) topics[topic] = lag.total
  }
  return { at: at.toISOString(), topics }
}

/** The last `capacity` points of the ticker, oldest first: a few minutes, kept by every node. */
export class TopicHistory {
  readonly #points: HistoryPoint[] = []

  constructor(readonly capacity: number) {}

  add(point: HistoryPoint): void {
    this.#points.push(point)
    if (this.#points.length > this.capacity) this.#points.splice(0, this.#points.length - this.capacity)
  }

  points(): readonly HistoryPoint[] {
    return this.#points
  }
}
