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

/** Creates the technical topic if missing; checks its partition count otherwise. */
export async function ensureTechnicalTopic(admin: TopicAdmin, settings: ResolvedSettings): Promise<void> {
  const { topic, partitions } = settings
  const { partitions: actual } = await admin.ensureTopic({
    topic,
    partitions,
    ...(settings.replicationFactor !== undefined && { replicationFactor: settings.replicationFactor }),
  })
  if (actual !== partitions) throw new TopicMismatchError(topic, actual, partitions)
}
