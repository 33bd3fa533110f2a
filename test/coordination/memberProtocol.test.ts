import { describe, expect, it } from 'vitest'
import type { EpochStore } from '../../src/coordination/groupMembership.js'
import {
  type AssignmentNotes,
  decideEpoch,
  decodeNotesTopics,
  decodeReport,
  encodeReport,
  fencingToken,
  type MemberReport,
  maxNotesTopicLength,
  notesTopicPrefix,
  notesTopics,
} from '../../src/coordination/memberProtocol.js'

const decodeNotesTopic = (topic: string) => decodeNotesTopics([topic])
const notesTopic = (notes: AssignmentNotes): string => {
  const topics = notesTopics(notes)
  expect(topics).toHaveLength(1)
  return topics[0]!
}

const report: MemberReport = {
  v: 2,
  nodeId: 'node-1',
  role: 'worker',
  leaving: false,
  generation: 12,
  claims: [0, 3, 7],
  live: [3, 7],
  partitions: 32,
  fingerprint: 'static:20:abc',
  handoverMs: 4000,
  epoch: 3,
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

describe('member reports', () => {
  it('round-trip through encode and decode', () => {
    expect(decodeReport(encodeReport(report))).toEqual(report)
    const trigger: MemberReport = {
      ...report,
      role: 'trigger',
      leaving: true,
      generation: -1,
      claims: [],
      live: [],
    }
    expect(decodeReport(encodeReport(trigger))).toEqual(trigger)
  })

  it('encode to UTF-8 JSON', () => {
    expect(JSON.parse(encodeReport(report).toString('utf8'))).toEqual(report)
  })

  it('decode missing or empty metadata to undefined', () => {
    expect(decodeReport(undefined)).toBeUndefined()
    expect(decodeReport(null)).toBeUndefined()
    expect(decodeReport(Buffer.alloc(0))).toBeUndefined()
  })

  it('decode garbage to undefined', () => {
    expect(decodeReport(Buffer.from('not json'))).toBeUndefined()
    expect(decodeReport(Buffer.from([0xff, 0x00, 0x13, 0x37]))).toBeUndefined()
    expect(decodeReport(json(null))).toBeUndefined()
    expect(decodeReport(json([report]))).toBeUndefined()
    expect(decodeReport(json('a string'))).toBeUndefined()
  })

  it('decode another version to undefined', () => {
    expect(decodeReport(json({ ...report, v: 1 }))).toBeUndefined()
    expect(decodeReport(json({ ...report, v: '2' }))).toBeUndefined()
    const { v: _v, ...unversioned } = report
    expect(decodeReport(json(unversioned))).toBeUndefined()
  })

  it('decode a report with a missing or mistyped field to undefined', () => {
    expect(decodeReport(json({ ...report, role: 'leader' }))).toBeUndefined()
    expect(decodeReport(json({ ...report, leaving: 'no' }))).toBeUndefined()
    expect(decodeReport(json({ ...report, claims: ['1'] }))).toBeUndefined()
    expect(decodeReport(json({ ...report, live: undefined }))).toBeUndefined()
    expect(decodeReport(json({ ...report, generation: '12' }))).toBeUndefined()
  })
})

describe('assignment notes topic', () => {
  const notes: AssignmentNotes = {
    v: 2,
    cleanAt: { '3': 11, '7': 11 },
    heldBack: [4, 5],
    epoch: 2,
    handoverMs: 4000,
    mismatch: null,
  }

  it('starts with the prefix and round-trips', () => {
    const topic = notesTopic(notes)
    expect(topic.startsWith(notesTopicPrefix)).toBe(true)
    expect(decodeNotesTopic(topic)).toEqual(notes)
    const empty: AssignmentNotes = { ...notes, cleanAt: {}, heldBack: [] }
    expect(decodeNotesTopic(notesTopic(empty))).toEqual(empty)
  })

  it('rejects ordinary topic names', () => {
    expect(decodeNotesTopic('kdp-processes')).toBeUndefined()
    expect(decodeNotesTopic('')).toBeUndefined()
    // The JSON alone, without the prefix, is not a notes topic.
    expect(decodeNotesTopic(JSON.stringify(notes))).toBeUndefined()
  })

  it('rejects a prefixed name whose body is garbage or another version', () => {
    expect(decodeNotesTopic(notesTopicPrefix)).toBeUndefined()
    expect(decodeNotesTopic(`${notesTopicPrefix}{not json`)).toBeUndefined()
    expect(decodeNotesTopic(`${notesTopicPrefix}${JSON.stringify({ ...notes, v: 1 })}`)).toBeUndefined()
    expect(
      decodeNotesTopic(`${notesTopicPrefix}${JSON.stringify({ ...notes, cleanAt: { '3': 'x' } })}`),
    ).toBeUndefined()
    expect(decodeNotesTopic(`${notesTopicPrefix}${JSON.stringify({ v: 2, cleanAt: {} })}`)).toBeUndefined()
  })

  it("splits large notes into deflated chunks that each fit kafkajs's int16 topic names, and joins them back", () => {
    // 100,000 partitions, each clean at another generation: about 1.3 MB of JSON.
    const cleanAt: Record<string, number> = {}
    for (let p = 0; p < 100_000; p++) cleanAt[String(p)] = (p * 7919) % 1_000_003
    const large: AssignmentNotes = {
      ...notes,
      cleanAt,
      heldBack: Array.from({ length: 5000 }, (_, i) => i * 3),
    }
    const topics = notesTopics(large)
    expect(topics.length).toBeGreaterThan(1)
    for (const topic of topics) {
      expect(topic.startsWith(notesTopicPrefix)).toBe(true)
      expect(Buffer.byteLength(topic, 'utf8')).toBeLessThanOrEqual(maxNotesTopicLength)
    }
    expect(decodeNotesTopics([...topics].reverse())).toEqual(large)
    // A missing chunk is not half a note.
    expect(decodeNotesTopics(topics.slice(1))).toBeUndefined()
  })
})

describe('fencing tokens and epochs', () => {
  it('order tokens by epoch first, then generation', () => {
    expect(fencingToken(0, 5)).toBeLessThan(fencingToken(0, 6))
    expect(fencingToken(0, 2 ** 31 - 1)).toBeLessThan(fencingToken(1, 1))
    expect(Number.isSafeInteger(fencingToken(2 ** 21 - 1, 2 ** 31 - 1))).toBe(true)
  })

  function memoryEpochs(initial = 0): EpochStore & { stored: number[] } {
    const stored: number[] = []
    let latest = initial
    return {
      stored,
      next: async () => {
        latest++
        stored.push(latest)
        return latest
      },
    }
  }

  it('keeps the largest epoch a member knows, without touching the store', async () => {
    const store = memoryEpochs(9)
    const epoch = await decideEpoch('g', [report, { ...report, epoch: 5 }, { ...report, epoch: null }], store)
    expect(epoch).toBe(5)
    expect(store.stored).toEqual([])
  })

  it('starts a new, stored epoch when no member knows one (every node restarted, or the group was deleted)', async () => {
    const store = memoryEpochs(4)
    expect(await decideEpoch('g', [{ ...report, epoch: null }], store)).toBe(5)
    expect(await decideEpoch('g', [], store)).toBe(6)
    expect(store.stored).toEqual([5, 6])
  })
})
