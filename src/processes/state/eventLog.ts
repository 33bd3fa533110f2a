import type { KafkaClient } from '../../kafka/index.js'
import type { Logger } from '../../util/logging.js'
import type { StopReason } from '../archiver/stoppedArchivers.js'
import type { ScalerEvent } from '../scaler/events.js'

/** Something worth telling operators, written to the events topic. */
export type ClusterEvent =
  | { type: 'config-changed'; topic: string; revision: number }
  | { type: 'config-deleted'; topic: string }
  | { type: 'topic-discovered'; topic: string }
  | { type: 'process-failed'; group: string; key: string; error: string }
  | { type: 'process-restarted'; group: string; key: string }
  | { type: 'heavy-use'; nodeId: string; reasons: string[] }
  | { type: 'master-started'; fencingToken: number }
  | {
      type: 'archiver-stopped'
      nodeId: string
      topic: string
      sink: string
      reason: StopReason
      error: string
      since: string
    }
  | ScalerEvent

export const eventsTopicSettings = { partitions: 1, config: { 'retention.ms': String(7 * 24 * 3600 * 1000) } }

/** Appends events (JSON, keyed by type) to the events topic. Never throws: events are best effort. */
export class EventLog {
  constructor(
    private readonly client: KafkaClient,
    readonly topic: string,
    private readonly nodeId: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.client.ensureTopic({ topic: this.topic, ...eventsTopicSettings })
  }

  async emit(event: ClusterEvent): Promise<void> {
    const record = { ...event, nodeId: this.nodeId, at: new Date().toISOString() }
    try {
      await this.client.produce(this.topic, { key: event.type, value: JSON.stringify(record) })
    } catch (error) {
      this.logger.warn('could not write an event', {
        event: event.type,
        error: error instanceof Error ? error.message : String(error),
      })
    }
  }
}
