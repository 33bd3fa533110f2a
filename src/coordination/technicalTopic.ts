import type { TopicAdmin } from '../kafka/types.js'
import type { ResolvedSettings } from './settings.js'

/** Raised when the technical topic exists with another partition count than the settings ask for. */
export class TopicMismatchError extends Error {
  constructor(topic: string, actual: number, wanted: number) {
    super(
      `technical topic '${topic}' has ${actual} partitions but settings.partitions is ${wanted}; ` +
        `set partitions: ${actual}, or use another topic (changing the count would move every process)`,
    )
    this.name = 'TopicMismatchError'
  }
}

/** The compacted topic beside the technical topic that keeps each group's fencing epoch. */
export function epochsTopicOf(technicalTopic: string): string {
  return `${technicalTopic}-epochs`
}

/** Creates the technical topic and its epochs topic if missing; checks the partition count otherwise. */
export async function ensureTechnicalTopic(admin: TopicAdmin, settings: ResolvedSettings): Promise<void> {
  const { topic, partitions } = settings
  const replication = settings.replicationFactor !== undefined && {
    replicationFactor: settings.replicationFactor,
  }
  const { partitions: actual } = await admin.ensureTopic({ topic, partitions, ...replication })
  if (actual !== partitions) throw new TopicMismatchError(topic, actual, partitions)
  await admin.ensureTopic({
    topic: epochsTopicOf(topic),
    partitions: 1,
    ...replication,
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' },
  })
}
