// The chat's pure parts: decoding and reasons, sequence numbers and history, restoring from a
// compacted changelog, the shard assigner's choice, and the size of a transaction's sends.
import { describe, expect, it } from 'vitest'
import { chunkRecords, type OutgoingRecord, prepareBatch } from '../../../examples/chat/batch.js'
import {
  type ChangelogRecord,
  ConversationStore,
  checkpointRecord,
  decodeChangelog,
  Restorer,
  slotRecord,
} from '../../../examples/chat/conversations.js'
import { chatCodecs, decodeRecord, defaultLimits } from '../../../examples/chat/messages.js'
import { chooseOwner } from '../../../examples/chat/shardAssigner.js'
import { chatTopics, homePartition } from '../../../examples/chat/topics.js'

const codecs = chatCodecs(defaultLimits)
const message = (value: unknown) =>
  decodeRecord(codecs.instantMessage, Buffer.from(JSON.stringify(value)), 'instant message', defaultLimits)
const request = (value: unknown) =>
  decodeRecord(codecs.latestMessagesRequest, Buffer.from(JSON.stringify(value)), 'request', defaultLimits)
const reason = (decoded: { ok: boolean; reason?: string }) => (decoded.ok ? 'ok' : decoded.reason)

describe('decoding input records', () => {
  it('accepts the seed examples', () => {
    expect(
      message({ conversationKey: 'abc123', sender: 'bob', recipients: ['ann'], body: 'Hi there!' }).ok,
    ).toBe(true)
    expect(request({ conversationKey: 'abc123', numMsgs: 100 }).ok).toBe(true)
  })

  it('names every bad field with its path', () => {
    expect(reason(message({ conversationKey: 'a', sender: '', recipients: ['x', 7] }))).toBe(
      'invalid instant message: sender: expected a string of 1 to 256 bytes, got ""; recipients.1: expected a string of 1 to 256 bytes, got 7; body: expected a string of at most 4096 bytes, got missing',
    )
    for (const numMsgs of [0, -1, 1.5, '5', null]) {
      expect(reason(request({ conversationKey: 'a', numMsgs }))).toMatch(
        /^invalid request: numMsgs: expected a positive integer/,
      )
    }
  })

  it('gives the reason for bytes that are not a message at all', () => {
    const limits = defaultLimits
    const raw = (value: Buffer | null) =>
      reason(decodeRecord(codecs.instantMessage, value, 'instant message', limits))
    expect(raw(null)).toBe('no value (a tombstone)')
    expect(raw(Buffer.from([0xff, 0xfe, 0x41]))).toBe('not UTF-8 text')
    expect(raw(Buffer.from('{"conversationKey":'))).toMatch(/^not JSON: /)
    expect(raw(Buffer.alloc(limits.maxRecordBytes + 1, 0x20))).toBe(
      `record too large: ${limits.maxRecordBytes + 1} bytes (max ${limits.maxRecordBytes})`,
    )
    const body = 'é'.repeat(2049) // 4098 bytes in UTF-8, 2049 characters
    expect(reason(message({ conversationKey: 'a', sender: 'b', recipients: [], body }))).toMatch(
      /^invalid instant message: body: expected a string of at most 4096 bytes/,
    )
  })
})

describe('conversation state', () => {
  it('hands out 0, 1, 2… per conversation and keeps the last K, visible only after apply()', () => {
    const store = new ConversationStore(3)
    const draft = store.draft()
    const seqs = ['a', 'b', 'a', 'a', 'a', 'b'].map((c, i) => draft.append(c, `s${i}`, `m${i}`)[2])
    expect(seqs).toEqual([0, 0, 1, 2, 3, 1])
    expect(store.get('a')).toBeUndefined()
    expect(draft.latest('a', 100)).toEqual([
      ['s2', 'm2', 1],
      ['s3', 'm3', 2],
      ['s4', 'm4', 3],
    ])
    draft.apply()
    expect(store.get('a')?.next).toBe(4)
    expect(store.draft().latest('a', 2)).toEqual([
      ['s3', 'm3', 2],
      ['s4', 'm4', 3],
    ])
    expect(store.draft().latest('none', 5)).toEqual([])
  })

  it('restores next and the history from a compacted changelog, and never reuses a number', () => {
    const k = 4
    const written: ChangelogRecord[] = []
    for (let seq = 0; seq < 10; seq++) written.push(slotRecord('c', [`s${seq}`, `b${seq}`, seq], k))
    written.push(checkpointRecord({ messages: 10, requests: 3 }))
    // Compaction keeps the newest record of each key, in offset order.
    const latest = new Map<string, { record: ChangelogRecord; offset: number }>()
    for (const [offset, record] of written.entries()) latest.set(record.key, { record, offset })
    const compacted = [...latest.values()].sort((a, b) => a.offset - b.offset)
    expect(compacted).toHaveLength(k + 1)
    const restorer = new Restorer(k)
    for (let round = 0; round < 2; round++) {
      // Read twice: a re-delivered record changes nothing.
      for (const { record, offset } of compacted) {
        restorer.add(decodeChangelog(Buffer.from(record.key), Buffer.from(record.value), String(offset)))
      }
    }
    const { store, checkpoint } = restorer.result()
    expect(checkpoint).toEqual({ messages: 10, requests: 3 })
    expect(store.get('c')).toEqual({
      next: 10,
      recent: [6, 7, 8, 9].map((seq) => [`s${seq}`, `b${seq}`, seq]),
    })
    expect(store.draft().append('c', 'x', 'y')[2]).toBe(10)
  })

  it('refuses a changelog record it cannot read (it could hide the highest number)', () => {
    expect(() => decodeChangelog(Buffer.from('["m","c",1]'), Buffer.from('{"oops":1}'), '17')).toThrow(
      /offset 17/,
    )
  })
})

describe('a batch', () => {
  it('turns messages into output and changelog records, and the rest into forwards and dead letters', () => {
    const topics = chatTopics('t.')
    const shards = 4
    const mine = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].find((k) => homePartition(k, shards) === 1)!
    const other = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].find((k) => homePartition(k, shards) !== 1)!
    const record = (offset: number, value: unknown) => ({
      offset: String(offset),
      key: null,
      value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    })
    const msg = (key: string, body: string) => ({
      conversationKey: key,
      sender: 's',
      recipients: ['r'],
      body,
    })
    const store = new ConversationStore(10)
    const scope = { shard: 1, shards, fencingToken: 7, topics, historySize: 10, limits: defaultLimits }
    const prepared = prepareBatch(
      scope,
      'messages',
      [
        record(5, msg(mine, 'one')),
        record(6, 'nope'),
        record(7, msg(other, 'x')),
        record(8, msg(mine, 'two')),
      ],
      store.draft(),
    )
    expect([prepared.messages, prepared.deadLetters, prepared.forwarded]).toEqual([2, 1, 1])
    expect(prepared.records.map((r) => r.topic)).toEqual([
      topics.output,
      topics.changelog,
      topics.deadLetters,
      topics.input,
      topics.output,
      topics.changelog,
    ])
    const dead = prepared.records[2]!
    expect(dead.headers).toMatchObject({ 'kdp-source-offset': '6', 'kdp-source-partition': '1' })
    expect(prepared.records[3]).toMatchObject({ partition: homePartition(other, shards), key: other })
    expect(prepared.records[1]).toMatchObject({ partition: 1 })
    expect(JSON.parse(String(prepared.records[4]!.value))).toMatchObject({
      body: 'two',
      conversationMsgSeq: 1,
    })
  })
})

describe('the shard assigner', () => {
  it('gives the partition to the newest fencing token, then the newest instance', () => {
    expect(
      chooseOwner([
        { memberId: 'm1', claim: { token: 4, instance: 9 } },
        { memberId: 'm2', claim: { token: 7, instance: 1 } },
        { memberId: 'm3', claim: undefined },
      ]),
    ).toBe('m2')
    expect(
      chooseOwner([
        { memberId: 'm1', claim: { token: 7, instance: 1 } },
        { memberId: 'm2', claim: { token: 7, instance: 2 } },
      ]),
    ).toBe('m2')
    expect(chooseOwner([{ memberId: 'm1', claim: undefined }])).toBeUndefined()
  })
})

describe('sends of a transaction', () => {
  it('stay under the byte bound and keep the order of the records', () => {
    const records: OutgoingRecord[] = Array.from({ length: 50 }, (_, i) => ({
      topic: i % 2 === 0 ? 'x' : 'y',
      key: String(i),
      value: 'v'.repeat(1000),
    }))
    const chunks = chunkRecords(records, 10_000)
    expect(chunks.length).toBeGreaterThan(5)
    for (const topic of ['x', 'y']) {
      const sent = chunks.flatMap((chunk) =>
        chunk.filter((tm) => tm.topic === topic).flatMap((tm) => tm.messages.map((m) => m.key)),
      )
      expect(sent).toEqual(records.filter((r) => r.topic === topic).map((r) => r.key))
    }
    for (const chunk of chunks) {
      const bytes = chunk.reduce(
        (s, tm) => s + tm.messages.reduce((t, m) => t + String(m.value).length, 0),
        0,
      )
      expect(bytes).toBeLessThanOrEqual(10_000)
    }
  })
})
