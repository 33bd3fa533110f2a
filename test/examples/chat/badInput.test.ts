// Bad input never stops a shard and is never lost: each bad record is one dead letter with its
// reason and source in the headers, good records around it are numbered as if it were not there,
// and records of a conversation that landed on the wrong partition are forwarded to their shard.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { BlockCodec, decodeOrThrow, OutputCodec } from '../../../examples/chat/messages.js'
import { chatTopics, ensureChatTopics, homePartition } from '../../../examples/chat/topics.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { ChatCluster } from './harness/chatCluster.js'
import { readTopic, type TopicReader } from './harness/topicReader.js'

const brokers = inject('kafkaBrokers').split(',')
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
})

describe('chat: bad input', () => {
  it('goes to the dead-letter topic with its reason; nothing crashes, nothing is lost', {
    timeout: 120_000,
  }, async () => {
    const app = uniqueName('chat-bad')
    const topics = chatTopics(`${app}.`)
    const shards = 3
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    await ensureChatTopics(admin, topics, shards)
    await admin.disconnect()

    const cluster = new ChatCluster(
      {
        brokers,
        app,
        topicPrefix: `${app}.`,
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 500,
        maxStopMs: 2000,
        leaseMarginMs: 500,
        shardSessionTimeoutMs: 4000,
        shardHeartbeatIntervalMs: 500,
      },
      mkdtempSync(join(tmpdir(), 'kdp-chat-bad-')),
    )
    cleanups.push(() => cluster.stopAll())
    await cluster.start('n1')
    await cluster.allRunning(shards)
    // Starts so far (a shard may have restarted once on a broker that was still warming up):
    // the bad input below must not add any.
    const startsBefore = (await cluster.shards()).map((s) => [s.shard, s.starts])

    const readers: Record<'out' | 'blocks' | 'dlq', TopicReader> = {
      out: await readTopic(brokers, topics.output),
      blocks: await readTopic(brokers, topics.blocks),
      dlq: await readTopic(brokers, topics.deadLetters),
    }
    for (const reader of Object.values(readers)) cleanups.push(() => reader.stop())

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true })
    await producer.connect()
    cleanups.push(() => producer.disconnect())
    const msg = (key: string, body: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ conversationKey: key, sender: 'bob', recipients: ['ann'], body, ...extra })
    // Each bad record with the reason it must get; sent one at a time to know its offset.
    const expectedDead: Array<{
      topic: string
      partition: number
      offset: string
      reason: RegExp
      bytes: number
    }> = []
    const send = async (
      topic: string,
      value: string | Buffer | null,
      options: { key?: string; partition?: number; dead?: RegExp } = {},
    ) => {
      const [meta] = await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            key: options.key ?? 'A',
            value,
            ...(options.partition !== undefined ? { partition: options.partition } : {}),
          },
        ],
      })
      if (options.dead) {
        const bytes = value === null ? 0 : Buffer.byteLength(value)
        expectedDead.push({
          topic,
          partition: meta!.partition,
          offset: meta!.baseOffset!,
          reason: options.dead,
          bytes,
        })
      }
    }
    const homeB = homePartition('B', shards)
    await send(topics.input, msg('A', 'first'))
    await send(topics.input, 'not json', { dead: /^not JSON: / })
    await send(topics.input, JSON.stringify({ conversationKey: 'A', sender: 'bob' }), {
      dead: /^invalid instant message: recipients: expected .*; body: expected a string of at most 4096 bytes, got missing$/,
    })
    await send(topics.input, msg('A', 'x'.repeat(100_000)), {
      dead: /^record too large: 100\d{3} bytes \(max 65536\)$/,
    })
    await send(topics.input, msg('A', 'y'.repeat(5000)), {
      dead: /^invalid instant message: body: expected a string of at most 4096 bytes/,
    })
    await send(topics.input, null, { dead: /^no value \(a tombstone\)$/ })
    await send(topics.input, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { dead: /^not UTF-8 text$/ })
    await send(topics.input, '[1,2]', { dead: /^invalid instant message: \(root\): expected / })
    await send(
      topics.input,
      msg('A', 'many', { recipients: Array.from({ length: 101 }, (_, i) => `r${i}`) }),
      {
        dead: /^invalid instant message: recipients: expected an array of at most 100 names/,
      },
    )
    await send(topics.input, msg('A', 'second'))
    // Conversation B on every partition but its own: forwarded to its shard, numbered once each.
    const wrong = [0, 1, 2].filter((p) => p !== homeB)
    for (const [i, partition] of wrong.entries())
      await send(topics.input, msg('B', `b${i}`), { key: 'B', partition })
    await send(topics.input, msg('B', 'b-last'), { key: 'B' })
    for (const numMsgs of [0, -3, 1.5, '5', null]) {
      await send(topics.requests, JSON.stringify({ conversationKey: 'A', numMsgs }), {
        dead: /^invalid latest messages request: numMsgs: expected a positive integer/,
      })
    }
    await send(topics.requests, '{"numMsgs":', { dead: /^not JSON: / })
    await send(topics.input, msg('A', 'third'))

    const goodOutputs = 3 + wrong.length + 1
    await eventually('every good message numbered', () =>
      readers.out.records.length >= goodOutputs ? true : undefined,
    )
    // A request after the messages: they are in its history.
    await send(topics.requests, JSON.stringify({ conversationKey: 'A', numMsgs: 10 }))
    await send(topics.requests, JSON.stringify({ conversationKey: 'B', numMsgs: 2 }), { key: 'B' })
    await eventually('both requests answered', () => (readers.blocks.records.length >= 2 ? true : undefined))
    await eventually('every dead letter', () =>
      readers.dlq.records.length >= expectedDead.length ? true : undefined,
    )

    const outputs = readers.out.records.map((r) =>
      decodeOrThrow(OutputCodec, JSON.parse(String(r.value)), 'output'),
    )
    const byConversation = (key: string) =>
      outputs.filter((o) => o.conversationKey === key).map((o) => [o.body, o.conversationMsgSeq])
    expect(byConversation('A')).toEqual([
      ['first', 0],
      ['second', 1],
      ['third', 2],
    ])
    const b = byConversation('B')
    expect(b.map(([, seq]) => seq)).toEqual(wrong.map((_, i) => i).concat(wrong.length))
    expect(b.map(([body]) => body).sort()).toEqual([...wrong.map((_, i) => `b${i}`), 'b-last'].sort())
    expect(outputs).toHaveLength(goodOutputs)

    const blocks = readers.blocks.records.map((r) =>
      decodeOrThrow(BlockCodec, JSON.parse(String(r.value)), 'block'),
    )
    expect(blocks.find((x) => x.conversationKey === 'A')?.latestChatter).toEqual([
      ['bob', 'first', 0],
      ['bob', 'second', 1],
      ['bob', 'third', 2],
    ])
    expect(blocks.find((x) => x.conversationKey === 'B')?.latestChatter.map(([, , seq]) => seq)).toEqual([
      wrong.length - 1,
      wrong.length,
    ])

    const dead = readers.dlq.records
    expect(dead).toHaveLength(expectedDead.length)
    for (const expected of expectedDead) {
      const letter = dead.find(
        (d) =>
          d.headers['kdp-source-topic'] === expected.topic &&
          d.headers['kdp-source-partition'] === String(expected.partition) &&
          d.headers['kdp-source-offset'] === expected.offset,
      )
      expect(
        letter,
        `dead letter for ${expected.topic}:${expected.partition}:${expected.offset}`,
      ).toBeDefined()
      expect(letter!.headers['kdp-error-reason']).toMatch(expected.reason)
      // The original bytes, except that a value over the record limit is cut to it (and says so).
      const kept = Math.min(expected.bytes, 65_536)
      expect(letter!.value?.length ?? 0).toBe(kept)
      if (kept < expected.bytes)
        expect(letter!.headers['kdp-value-truncated-from']).toBe(String(expected.bytes))
    }

    // Nothing crashed: every shard still runs the instance it ran before the bad input.
    const status = await cluster.shards()
    expect(status.map((s) => [s.shard, s.starts])).toEqual(startsBefore)
    expect(status.map((s) => s.phase)).toEqual(['running', 'running', 'running'])
    expect(status.reduce((n, s) => n + s.forwarded, 0)).toBe(wrong.length)
    expect(status.reduce((n, s) => n + s.deadLetters, 0)).toBe(expectedDead.length)
    const health = await fetch(`${cluster.nodes.get('n1')!.http}/health`)
    expect(health.status).toBe(200)
  })
})
