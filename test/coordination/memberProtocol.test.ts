import { describe, expect, it } from 'vitest'
import {
  type AssignmentNotes,
  decodeNotesTopic,
  decodeReport,
  encodeReport,
  type MemberReport,
  notesTopic,
  notesTopicPrefix,
} from '../../src/coordination/memberProtocol.js'

const report: MemberReport = {
  v: 1,
  nodeId: 'node-1',
  role: 'worker',
  leaving: false,
  generation: 12,
  claims: [0, 3, 7],
  live: [3, 7],
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
    expect(decodeReport(json({ ...report, v: 2 }))).toBeUndefined()
    expect(decodeReport(json({ ...report, v: '1' }))).toBeUndefined()
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
  const notes: AssignmentNotes = { v: 1, cleanAt: { '3': 11, '7': 11 }, heldBack: [4, 5] }

  it('starts with the prefix and round-trips', () => {
    const topic = notesTopic(notes)
    expect(topic.startsWith(notesTopicPrefix)).toBe(true)
    expect(decodeNotesTopic(topic)).toEqual(notes)
    const empty: AssignmentNotes = { v: 1, cleanAt: {}, heldBack: [] }
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
    expect(decodeNotesTopic(`${notesTopicPrefix}${JSON.stringify({ ...notes, v: 2 })}`)).toBeUndefined()
    expect(
      decodeNotesTopic(`${notesTopicPrefix}${JSON.stringify({ ...notes, cleanAt: { '3': 'x' } })}`),
    ).toBeUndefined()
    expect(decodeNotesTopic(`${notesTopicPrefix}${JSON.stringify({ v: 1, cleanAt: {} })}`)).toBeUndefined()
  })
})
