import type { Admin, Kafka } from 'kafkajs'
import type { Logger } from '../util/logging.js'
import { sleep } from '../util/sleep.js'
import type { TopicSpec } from './types.js'

/** Runs `work` with a connected admin client, disconnected afterwards whatever happens. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return await work(admin)
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

/** The partition count of `topic`, or undefined when it does not exist. */
export function partitionCount(kafka: Kafka, topic: string): Promise<number | undefined> {
  return withAdmin(kafka, async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) return undefined
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    return metadata.topics[0]?.partitions.length
  })
}

/**
 * Creates the topic if missing (idempotent, also when another node creates it at the same time) and
 * resolves with its partition count (which may differ from `spec.partitions` if it existed), once
 * every partition has a leader.
 */
export function ensureTopic(
  kafka: Kafka,
  spec: TopicSpec,
  logger: Logger,
): Promise<{ partitions: number; created: boolean }> {
  return withAdmin(kafka, async (admin) => {
    let created = false
    if (!(await admin.listTopics()).includes(spec.topic)) {
      const brokers = (await admin.describeCluster()).brokers.length
      const replicationFactor = spec.replicationFactor ?? Math.min(3, brokers)
      // kafkajs's own waitForLeaders fails on UNKNOWN_TOPIC_OR_PARTITION while a fresh topic has no
      // leader yet (it does not retry that one): topicMetadata below waits for the leaders instead.
      created = await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor,
            configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
          },
        ],
      })
      if (created)
        logger.info('created topic', { topic: spec.topic, partitions: spec.partitions, replicationFactor })
    }
    const metadata = await topicMetadata(admin, spec.topic)
    return { partitions: metadata.topics[0]?.partitions.length ?? spec.partitions, created }
  })
}

/**
 * Metadata of a topic once every partition has a leader. A topic just created, here or by another
 * node at the same moment, is answered UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE, or
 * without leaders, for a short while: ask again (up to about 15 s) rather than fail a node's start.
 */
async function topicMetadata(admin: Admin, topic: string): ReturnType<Admin['fetchTopicMetadata']> {
  for (let attempt = 1; ; attempt++) {
    let last: unknown
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
      const partitions = metadata.topics[0]?.partitions ?? []
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return metadata
      last = new Error(`topic '${topic}' has partitions without a leader`)
    } catch (error) {
      const type = (error as { type?: unknown } | null)?.type
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error
      last = error
    }
    if (attempt >= 30) throw last
    await sleep(500)
  }
}

/** The next offset to be written, per partition (the high watermark). */
export function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  return withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic)
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]))
  })
}

/**
 * Records of `topic` not yet committed by `groupId`, per partition: high watermark minus the
 * committed offset (or the log start when nothing is committed, or the commit fell out of retention).
 */
export function groupLag(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, number>> {
  return withAdmin(kafka, async (admin) => {
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ])
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
    return new Map(
      ends.map((o) => [
        o.partition,
        Math.max(0, Number(o.high) - Math.max(done.get(o.partition) ?? -1, Number(o.low))),
      ]),
    )
  })
}
