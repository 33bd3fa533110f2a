import type { GroupMembership, MembershipOptions } from '../coordination/groupMembership.js'

/** Record headers as Kafka carries them. */
export type RecordHeaders = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>

/** One record read from a topic by `tail`. */
export interface LogRecord {
  readonly partition: number
  readonly offset: number
  readonly key: string | null
  readonly value: Buffer | null
  readonly timestamp: number
}

/** One record to write. */
export interface OutgoingRecord {
  readonly key: string | Buffer | null
  /** null: a tombstone. */
  readonly value: string | Buffer | null
  readonly headers?: RecordHeaders
  /** Epoch ms; default: now. */
  readonly timestamp?: number
}

export interface TopicSpec {
  readonly topic: string
  readonly partitions: number
  /** Default: min(3, brokers in the cluster). */
  readonly replicationFactor?: number
  readonly config?: Readonly<Record<string, string>>
}

/** A running read of a topic. */
export interface Tail {
  stop(): Promise<void>
}

/** A record as a topic consumer hands it over. */
export interface ConsumedRecord {
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: RecordHeaders
  readonly timestamp: number
}

/** What a batch handler may do while it handles a batch. */
export interface BatchControl {
  /** Keeps the group membership alive during long work (uploads, retries). */
  heartbeat(): Promise<void>
  /** False once the partition was revoked or the consumer is stopping: abandon the batch. */
  stillOwned(): boolean
}

/** What the broker said about a partition when it answered the fetch of a batch. */
export interface BatchInfo {
  /**
   * The partition's high watermark (the offset the next record will get) at the fetch: with the
   * batch's offsets it gives the unread lag without an extra admin request.
   */
  readonly highWatermark: number
}

/**
 * One consumer-group member on one topic with manual commits: batches in offset order per
 * partition, one at a time.
 */
export interface TopicConsumer {
  /** Joins the group and feeds batches. A new group starts at the beginning of the topic. */
  start(handlers: {
    onBatch(
      partition: number,
      records: readonly ConsumedRecord[],
      control: BatchControl,
      info: BatchInfo,
    ): Promise<void>
    /** After every rebalance, with the partitions this member now has. */
    onAssignment(partitions: readonly number[]): void
    /**
     * Given, the batches of one fetch (one per partition) are each handed to it as soon as they
     * arrive, before their turn in `onBatch`: work started here (on other threads) overlaps with
     * the batches before. `onBatch` calls still never overlap. The consumer then fetches on while
     * batches wait their turn (about one fetch ahead): what it fetched is known here first.
     */
    readAhead?(partition: number, records: readonly ConsumedRecord[], info: BatchInfo): void
  }): Promise<void>
  /** Commits `offset` (the next record to read) for `partition`. */
  commit(partition: number, offset: number): Promise<void>
  /** Records in the topic not yet committed by the group. */
  lag(): Promise<number>
  stop(): Promise<void>
}

/** Topic-level administration. */
export interface TopicAdmin {
  /** Creates the topic if missing (idempotent); resolves with its partition count and whether this call created it. */
  ensureTopic(spec: TopicSpec): Promise<{ partitions: number; created: boolean }>
  /** The topic's partition count, or undefined if it does not exist. */
  partitionCount(topic: string): Promise<number | undefined>
  listTopics(): Promise<string[]>
  /** The next offset to be written, per partition (the high watermark). */
  endOffsets(topic: string): Promise<Map<number, number>>
  /** Records of `topic` not yet committed by `groupId`, per partition. */
  groupLag(groupId: string, topic: string): Promise<Map<number, number>>
}

/** Writing and following records. */
export interface RecordLog {
  /** Produces one record with acks=all; resolves with where it landed. */
  produce(topic: string, record: OutgoingRecord): Promise<{ partition: number; offset: number }>
  /** Produces records in one request (acks=all). */
  sendBatch(topic: string, records: readonly OutgoingRecord[]): Promise<void>
  /** Reads every partition of `topic` from the beginning and keeps following it. */
  tail(topic: string, onRecord: (record: LogRecord) => void): Promise<Tail>
}

export interface TopicConsumerOptions {
  /**
   * The member's session (default 10 s, as Kafka Connect's): how long the group waits for a member
   * that went silent (killed, frozen, cut off) before it hands that member's partitions on; no
   * partition of the group is read meanwhile once a rebalance has begun. Heartbeats go every
   * third of it, at most every 3 s.
   */
  readonly sessionTimeoutMs?: number
}

/**
 * Everything kdp needs from a Kafka client, in one small interface so that the client library can
 * be replaced by changing `src/kafka` only.
 */
export interface KafkaClient extends TopicAdmin, RecordLog {
  /** Membership in a consumer group on the technical topic, with kdp's own assignment. */
  membership(options: MembershipOptions): GroupMembership
  /** A consumer-group member on `topic` for a data pipeline (see TopicConsumer). */
  topicConsumer(groupId: string, topic: string, options?: TopicConsumerOptions): TopicConsumer
  /** Stops every tail and producer this client opened. */
  disconnect(): Promise<void>
}
