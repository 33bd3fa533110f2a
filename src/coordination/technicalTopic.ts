import type { Kafka } from 'kafkajs'
import type { Logger } from '../util/logging.js'
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

async function partitionCount(kafka: Kafka, topic: string): Promise<number | undefined> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const topics = await admin.listTopics()
    if (!topics.includes(topic)) return undefined
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    return metadata.topics[0]?.partitions.length
  } finally {
    await admin.disconnect()
  }
}

/** Creates the technical topic if missing; checks its partition count otherwise. */
export async function ensureTechnicalTopic(
  kafka: Kafka,
  settings: ResolvedSettings,
  logger: Logger,
): Promise<void> {
  const { topic, partitions } = settings
  let actual = await partitionCount(kafka, topic)
  if (actual === undefined) {
    const admin = kafka.admin()
    await admin.connect()
    try {
      const brokers = (await admin.describeCluster()).brokers.length
      const replicationFactor = settings.replicationFactor ?? Math.min(3, brokers)
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor }],
        waitForLeaders: true,
      })
      if (created) logger.info('created the technical topic', { topic, partitions, replicationFactor })
    } finally {
      await admin.disconnect()
    }
    actual = await partitionCount(kafka, topic)
  }
  if (actual !== partitions) throw new TopicMismatchError(topic, actual ?? 0, partitions)
}
