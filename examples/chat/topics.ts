// The chat's topics. Conversations are sharded by the partitions of the input topic: shard p owns
// partition p of `instant_message_in`, of `latest_messages_request` and of the changelog, so those
// three must have the same partition count (checked at start).
import { type Admin, type ITopicConfig, Partitioners, type PartitionMetadata } from 'kafkajs'

/** Names of the chat's topics. */
export interface ChatTopics {
  readonly input: string
  readonly output: string
  readonly requests: string
  readonly blocks: string
  /** Compacted: the shards' state. */
  readonly changelog: string
  /** Bad input records, with the reason in the `kdp-error-reason` header. */
  readonly deadLetters: string
}

/** The seed's topic names, each behind an optional prefix (tests use one per run). */
export function chatTopics(prefix = ''): ChatTopics {
  return {
    input: `${prefix}instant_message_in`,
    output: `${prefix}instant_message_out`,
    requests: `${prefix}latest_messages_request`,
    blocks: `${prefix}latest_messages_block`,
    changelog: `${prefix}chat_state_changelog`,
    deadLetters: `${prefix}chat_dead_letters`,
  }
}

const murmur2 = Partitioners.DefaultPartitioner()

/**
 * The shard (input partition) that owns a conversation: the partition the Java client's and
 * kafkajs's default (murmur2) partitioner picks for the conversation key. librdkafka (kcat) hashes
 * keys with CRC32 by default: its records land elsewhere and are forwarded (see batch.ts).
 */
export function homePartition(conversationKey: string, shards: number, topic = ''): number {
  return murmur2({
    topic,
    partitionMetadata: metadataFor(shards),
    message: { key: Buffer.from(conversationKey, 'utf8'), value: null },
  })
}

const fakeMetadata = new Map<number, PartitionMetadata[]>()
/** The partitioner only counts partitions: one shared array per count, not one per message. */
function metadataFor(shards: number): PartitionMetadata[] {
  let metadata = fakeMetadata.get(shards)
  if (!metadata) {
    metadata = Array.from({ length: shards }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }))
    fakeMetadata.set(shards, metadata)
  }
  return metadata
}

/**
 * Polls until every partition of `topics` has a leader. kafkajs's own `waitForLeaders` retries only
 * LEADER_NOT_AVAILABLE, and a new topic is briefly UNKNOWN_TOPIC_OR_PARTITION too (seen on a
 * fresh broker: the node died at start).
 */
async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] })
      const leaderless = metadata.filter(
        (t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0),
      )
      if (leaderless.length === 0 && metadata.length === topics.length) return
      last = `no leader yet for ${leaderless.map((t) => t.name).join(', ')}`
    } catch (error) {
      last = error instanceof Error ? error.message : String(error)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`topics not ready after ${timeoutMs} ms: ${last}`)
}

async function partitionCounts(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const existing = new Set(await admin.listTopics())
  const present = topics.filter((topic) => existing.has(topic))
  const counts = new Map<string, number>()
  if (present.length === 0) return counts
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present })
  for (const topic of metadata) counts.set(topic.name, topic.partitions.length)
  return counts
}

/**
 * Creates the missing topics (input, requests and changelog with `partitions` partitions, or with
 * the input's count if it exists; the changelog compacted) and returns the shard count. Throws with
 * a clear message when the co-partitioned topics disagree.
 */
export async function ensureChatTopics(
  admin: Admin,
  topics: ChatTopics,
  partitions: number,
): Promise<number> {
  const brokers = (await admin.describeCluster()).brokers.length
  const replicationFactor = Math.min(3, brokers)
  const coPartitioned = [topics.input, topics.requests, topics.changelog]
  const before = await partitionCounts(admin, coPartitioned)
  const shards = before.get(topics.input) ?? before.get(topics.requests) ?? partitions
  const wanted: ITopicConfig[] = [
    { topic: topics.input, numPartitions: shards, replicationFactor },
    { topic: topics.requests, numPartitions: shards, replicationFactor },
    {
      topic: topics.changelog,
      numPartitions: shards,
      replicationFactor,
      // Compaction only (no time-based deletion): a conversation's newest records are kept forever.
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    },
    { topic: topics.output, numPartitions: shards, replicationFactor },
    { topic: topics.blocks, numPartitions: shards, replicationFactor },
    { topic: topics.deadLetters, numPartitions: 1, replicationFactor },
  ]
  const existing = new Set(await admin.listTopics())
  const missing = wanted.filter((w) => !existing.has(w.topic))
  // Several nodes may start at once: "already exists" from a concurrent creator is fine.
  if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: false })
  await waitForLeaders(
    admin,
    wanted.map((w) => w.topic),
  )
  const after = await partitionCounts(admin, coPartitioned)
  const mismatched = coPartitioned.filter((topic) => after.get(topic) !== shards)
  if (mismatched.length > 0) {
    throw new Error(
      `the chat's co-partitioned topics must have the same partition count as ${topics.input} (${shards}): ` +
        mismatched.map((topic) => `${topic} has ${after.get(topic) ?? 'no'} partitions`).join(', '),
    )
  }
  return shards
}
