import type { Admin, Kafka } from 'kafkajs'
import type { Logger } from '../util/logging.js'
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
 * The partition count of `topic` once every partition has a leader. A topic another node has just
 * created answers UNKNOWN_TOPIC_OR_PARTITION or has leaderless partitions for a moment, and kafkajs's
 * own `waitForLeaders` retries only the latter: a fresh cluster's nodes, all starting at once, died
 * of it (`npm run demo`).
 */
async function partitionsOnceReady(admin: Admin, topic: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
      const partitions = topics[0]?.partitions ?? []
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return partitions.length
      last = 'a partition has no leader yet'
    } catch (error) {
      const type = (error as { type?: unknown }).type
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error
      last = String(type)
    }
    if (Date.now() >= deadline) throw new Error(`topic ${topic} not ready after ${timeoutMs} ms: ${last}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
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
      created = await admin.createTopics({
        // Waited for below, with the retries kafkajs's own wait lacks.
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
    return { partitions: await partitionsOnceReady(admin, spec.topic), created }
  })
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
