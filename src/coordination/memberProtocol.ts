import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { EpochStore } from './groupMembership.js'

/**
 * What each member tells the group leader in its JoinGroup metadata, computed synchronously right
 * before every join. The leader never hands a partition that is `live` on one member to another.
 */
export const MemberReportCodec = t.type({
  v: t.literal(2),
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
  /**
   * What the member's process list must agree on with the group's: the partition count it slices
   * by, and a fingerprint of the list (static lists: length and sources; dynamic sets: `dynamic`).
   * A member that disagrees gets nothing: it would run some process in another slice.
   */
  partitions: t.number,
  fingerprint: t.string,
  /** Its maxStop + margin: the handover delay of the group is the largest of them. */
  handoverMs: t.number,
  /** The fencing epoch this member last received in notes; null before its first assignment. */
  epoch: t.union([t.number, t.null]),
})
export type MemberReport = t.TypeOf<typeof MemberReportCodec>

/**
 * What the leader tells each member beyond its partitions. For each newly given partition whose
 * handover is known to be clean: the generation of the claim that proves it (the previous owner is
 * in this round and reported it stopped). A partition without an entry, or with a claim older than
 * the previous generation, starts only after the handover delay.
 */
export const AssignmentNotesCodec = t.type({
  v: t.literal(2),
  cleanAt: t.record(t.string, t.number),
  /** Partitions held back because they are still live on this member: it starts a round once they stopped. */
  heldBack: t.array(t.number),
  /** Fencing epoch of this generation: tokens are `(epoch, generation)` (see fencingToken). */
  epoch: t.number,
  /** The group's handover delay: the largest maxStop + margin of its members. */
  handoverMs: t.number,
  /** Why this member got nothing, when its list disagrees with the group's. */
  mismatch: t.union([t.string, t.null]),
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
 * subscribe to, so the leader carries the notes as extra, never-subscribed "topics" whose names are
 * this prefix plus the notes. Topic names in the assignment are opaque to the broker, but kafkajs
 * encodes them with an int16 length: notes longer than `maxNotesTopicLength` are deflated and
 * split over several names (`<prefix>z<index>/<count>:<base64>`).
 */
export const notesTopicPrefix = '__kdp_notes:'
export const maxNotesTopicLength = 30_000

/** The topic names that carry `notes` (one for small notes, several chunks for large ones). */
export function notesTopics(notes: AssignmentNotes): string[] {
  const json = JSON.stringify(notes)
  if (notesTopicPrefix.length + json.length <= maxNotesTopicLength) return [`${notesTopicPrefix}${json}`]
  const packed = deflateRawSync(Buffer.from(json, 'utf8')).toString('base64')
  const room = maxNotesTopicLength - notesTopicPrefix.length - 24
  const count = Math.ceil(packed.length / room)
  return Array.from(
    { length: count },
    (_, i) => `${notesTopicPrefix}z${i}/${count}:${packed.slice(i * room, (i + 1) * room)}`,
  )
}

/** The notes among a member's unsubscribed topics; undefined if absent, incomplete or undecodable. */
export function decodeNotesTopics(topics: readonly string[]): AssignmentNotes | undefined {
  const mine = topics
    .filter((t) => t.startsWith(notesTopicPrefix))
    .map((t) => t.slice(notesTopicPrefix.length))
  if (mine.length === 0) return undefined
  try {
    let json: string
    if (mine.length === 1 && mine[0]!.startsWith('{')) json = mine[0]!
    else {
      const chunks = new Map<number, string>()
      let count = -1
      for (const chunk of mine) {
        const match = /^z(\d+)\/(\d+):(.*)$/s.exec(chunk)
        if (!match) return undefined
        count = Number(match[2])
        chunks.set(Number(match[1]), match[3]!)
      }
      if (chunks.size !== count) return undefined
      const packed = Array.from({ length: count }, (_, i) => chunks.get(i) ?? '').join('')
      json = inflateRawSync(Buffer.from(packed, 'base64')).toString('utf8')
    }
    const result = AssignmentNotesCodec.decode(JSON.parse(json))
    return isLeft(result) ? undefined : result.right
  } catch {
    return undefined
  }
}

/**
 * The epoch of a round: the largest one a member still knows from its last notes, or, when no
 * member knows one (every node restarted, or the group was deleted and its generations restart at
 * 1), a new one from the store, larger than any before.
 */
export async function decideEpoch(
  group: string,
  reports: readonly MemberReport[],
  store: EpochStore,
): Promise<number> {
  let known = -1
  for (const report of reports) if (report.epoch !== null) known = Math.max(known, report.epoch)
  return known >= 0 ? known : store.next(group)
}
/**
 * Generations of one epoch below this bound; a larger one starts a new epoch. With epochs below
 * 2^21 the token stays an exact integer (2^21 × 2^32 = 2^53).
 */
export const generationsPerEpoch = 2 ** 32

/**
 * The fencing token of a slice acquired in `generation` of `epoch`: one number that grows with the
 * pair (epoch first), so that it keeps growing when the group's generations restart at 1 (after the
 * broker deleted the empty group) because the epoch grew.
 */
export function fencingToken(epoch: number, generation: number): number {
  return epoch * generationsPerEpoch + generation
}
