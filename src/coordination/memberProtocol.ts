import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'

/**
 * What each member tells the group leader in its JoinGroup metadata, computed synchronously right
 * before every join. The leader never hands a partition that is `live` on one member to another.
 */
export const MemberReportCodec = t.type({
  v: t.literal(1),
  nodeId: t.string,
  /** `trigger`: a short-lived member that joins only to start a rebalance; it gets nothing. */
  role: t.union([t.literal('worker'), t.literal('trigger')]),
  /** A leaving member gets nothing, but what it still runs stays held. */
  leaving: t.boolean,
  /** The generation of this member's last assignment; -1 before its first. */
  generation: t.number,
  /** Partitions assigned to it in `generation`, plus those it released (fully stopped) since. */
  claims: t.array(t.number),
  /** Partitions whose slice is starting, running or stopping on it right now. */
  live: t.array(t.number),
})
export type MemberReport = t.TypeOf<typeof MemberReportCodec>

/**
 * What the leader tells each member beyond its partitions. For each newly given partition whose
 * handover is known to be clean: the generation of the claim that proves it (the previous owner is
 * in this round and reported it stopped). A partition without an entry, or with a claim older than
 * the previous generation, starts only after the handover delay.
 */
export const AssignmentNotesCodec = t.type({
  v: t.literal(1),
  cleanAt: t.record(t.string, t.number),
  heldBack: t.array(t.number),
})
export type AssignmentNotes = t.TypeOf<typeof AssignmentNotesCodec>

export function encodeReport(report: MemberReport): Buffer {
  return Buffer.from(JSON.stringify(report))
}

export function decodeReport(data: Buffer | null | undefined): MemberReport | undefined {
  if (!data || data.length === 0) return undefined
  try {
    const result = MemberReportCodec.decode(JSON.parse(data.toString('utf8')))
    return isLeft(result) ? undefined : result.right
  } catch {
    return undefined
  }
}

/*
 * kafkajs hands a member only its partition map, not the assignment's userData. It does emit
 * RECEIVED_UNSUBSCRIBED_TOPICS (with the generation id) for assigned topics the member did not
 * subscribe to, so the leader carries the notes as one extra, never-subscribed "topic" whose name
 * is this prefix plus the JSON. Topic names in the assignment are opaque to the broker.
 */
export const notesTopicPrefix = '__kdp_notes:'

export function notesTopic(notes: AssignmentNotes): string {
  return `${notesTopicPrefix}${JSON.stringify(notes)}`
}

export function decodeNotesTopic(topic: string): AssignmentNotes | undefined {
  if (!topic.startsWith(notesTopicPrefix)) return undefined
  try {
    const result = AssignmentNotesCodec.decode(JSON.parse(topic.slice(notesTopicPrefix.length)))
    return isLeft(result) ? undefined : result.right
  } catch {
    return undefined
  }
}
