// What one input batch turns into, computed without touching Kafka: output records, changelog
// records, dead letters and forwards, all written later in one transaction. State changes stay in
// the Draft until that transaction committed.
import type { IHeaders, Message, TopicMessages } from 'kafkajs'
import { type Draft, slotRecord } from './conversations.js'
import {
  type ChatLimits,
  chatCodecs,
  type Decoded,
  decodeRecord,
  encodeBlock,
  encodeOutput,
} from './messages.js'
import { type ChatTopics, homePartition } from './topics.js'

/** An input record as a shard sees it. */
export interface InputRecord {
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers?: IHeaders
}

/** A record to write in the batch's transaction. */
export interface OutgoingRecord extends Message {
  readonly topic: string
}

/** Which input a batch came from. */
export type InputRole = 'messages' | 'requests'

/** Who handles a batch: the shard, its fencing token, the topics and limits. */
export interface BatchScope {
  readonly shard: number
  readonly shards: number
  readonly fencingToken: number
  readonly topics: ChatTopics
  readonly historySize: number
  readonly limits: ChatLimits
}

/** The records of one batch's transaction, with counts for the shard's status. */
export interface PreparedBatch {
  readonly records: OutgoingRecord[]
  readonly messages: number
  readonly requests: number
  readonly deadLetters: number
  readonly forwarded: number
}

/** Header names of dead letters (the archiver's convention) and of the chat's own records. */
export const headers = {
  reason: 'kdp-error-reason',
  sourceTopic: 'kdp-source-topic',
  sourcePartition: 'kdp-source-partition',
  sourceOffset: 'kdp-source-offset',
  truncatedFrom: 'kdp-value-truncated-from',
  fencingToken: 'kdp-fencing-token',
  shard: 'chat-shard',
  forwardedFrom: 'chat-forwarded-from',
} as const

const codecsByLimits = new WeakMap<ChatLimits, ReturnType<typeof chatCodecs>>()
function codecsFor(limits: ChatLimits): ReturnType<typeof chatCodecs> {
  let codecs = codecsByLimits.get(limits)
  if (!codecs) {
    codecs = chatCodecs(limits)
    codecsByLimits.set(limits, codecs)
  }
  return codecs
}

/**
 * Dead letter: the original key, value and headers, plus the reason and where it came from. A value
 * larger than `maxRecordBytes` is cut to that size (its full bytes stay in the source topic at the
 * named offset) so that the dead letter itself can never be too large for the transaction.
 */
function deadLetter(scope: BatchScope, topic: string, record: InputRecord, reason: string): OutgoingRecord {
  const max = scope.limits.maxRecordBytes
  const truncated = record.value !== null && record.value.length > max
  return {
    topic: scope.topics.deadLetters,
    key: record.key,
    value: truncated ? record.value!.subarray(0, max) : record.value,
    headers: {
      ...record.headers,
      [headers.reason]: reason,
      [headers.sourceTopic]: topic,
      [headers.sourcePartition]: String(scope.shard),
      [headers.sourceOffset]: record.offset,
      ...(truncated ? { [headers.truncatedFrom]: String(record.value!.length) } : {}),
    },
  }
}

/** A record of a conversation that another shard owns (its producer used another key or partitioner). */
function forward(
  scope: BatchScope,
  topic: string,
  record: InputRecord,
  conversationKey: string,
  home: number,
) {
  return {
    topic,
    partition: home,
    key: conversationKey,
    value: record.value,
    headers: { ...record.headers, [headers.forwardedFrom]: `${topic}:${scope.shard}:${record.offset}` },
  }
}

/** Turns one batch of `role` records into the records of its transaction, staging state in `draft`. */
export function prepareBatch(
  scope: BatchScope,
  role: InputRole,
  records: readonly InputRecord[],
  draft: Draft,
): PreparedBatch {
  const codecs = codecsFor(scope.limits)
  const topic = role === 'messages' ? scope.topics.input : scope.topics.requests
  const out: OutgoingRecord[] = []
  const own = { [headers.fencingToken]: String(scope.fencingToken), [headers.shard]: String(scope.shard) }
  let messages = 0
  let requests = 0
  let deadLetters = 0
  let forwarded = 0
  // Both branches: decode (else a dead letter), then forward if another shard owns the conversation.
  const routed = (record: InputRecord, decoded: Decoded<{ conversationKey: string }>): boolean => {
    if (!decoded.ok) {
      out.push(deadLetter(scope, topic, record, decoded.reason))
      deadLetters++
      return false
    }
    const home = homePartition(decoded.value.conversationKey, scope.shards)
    if (home === scope.shard) return true
    out.push(forward(scope, topic, record, decoded.value.conversationKey, home))
    forwarded++
    return false
  }
  for (const record of records) {
    if (role === 'requests') {
      const decoded = decodeRecord(
        codecs.latestMessagesRequest,
        record.value,
        'latest messages request',
        scope.limits,
      )
      if (!routed(record, decoded) || !decoded.ok) continue
      const { conversationKey, numMsgs } = decoded.value
      const latest = draft.latest(conversationKey, numMsgs)
      out.push({
        topic: scope.topics.blocks,
        key: conversationKey,
        value: encodeBlock(conversationKey, latest),
        headers: own,
      })
      requests++
    } else {
      const decoded = decodeRecord(codecs.instantMessage, record.value, 'instant message', scope.limits)
      if (!routed(record, decoded) || !decoded.ok) continue
      const message = decoded.value
      const entry = draft.append(message.conversationKey, message.sender, message.body)
      out.push({
        topic: scope.topics.output,
        key: message.conversationKey,
        value: encodeOutput(message, entry[2]),
        headers: own,
      })
      const slot = slotRecord(message.conversationKey, entry, scope.historySize)
      out.push({ topic: scope.topics.changelog, partition: scope.shard, key: slot.key, value: slot.value })
      messages++
    }
  }
  return { records: out, messages, requests, deadLetters, forwarded }
}

function sizeOf(record: OutgoingRecord): number {
  const bytes = (v: string | Buffer | null | undefined): number =>
    v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length
  let size = bytes(record.key) + bytes(record.value) + 64
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    size +=
      Buffer.byteLength(name) +
      (Array.isArray(value) ? value.reduce((s, v) => s + bytes(v), 0) : bytes(value))
  }
  return size
}

/**
 * Splits records into sends of at most `maxBytes` each (in order). kafkajs writes one record batch
 * per partition per send, and a batch over the broker's `max.message.bytes` (1 MiB by default)
 * would fail the whole transaction, again at every retry.
 */
export function chunkRecords(records: readonly OutgoingRecord[], maxBytes: number): TopicMessages[][] {
  const chunks: TopicMessages[][] = []
  let current = new Map<string, Message[]>()
  let bytes = 0
  const flush = (): void => {
    if (current.size === 0) return
    chunks.push([...current].map(([topic, messages]) => ({ topic, messages })))
    current = new Map()
    bytes = 0
  }
  for (const { topic, ...message } of records) {
    const size = sizeOf({ topic, ...message })
    if (bytes > 0 && bytes + size > maxBytes) flush()
    const list = current.get(topic) ?? []
    list.push(message)
    current.set(topic, list)
    bytes += size
  }
  flush()
  return chunks
}
