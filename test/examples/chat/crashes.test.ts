// The chat under kill -9 and SIGSTOP of its nodes while many conversations flow. Read as a
// downstream consumer would (read_committed), every conversation's output is exactly its input,
// once each, in order, numbered 0..n−1; every request is answered once, from a consistent history.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { BlockCodec, decodeOrThrow, OutputCodec } from '../../../examples/chat/messages.js'
import { chatTopics, ensureChatTopics } from '../../../examples/chat/topics.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { mulberry32 } from '../../helpers/prng.js'
import { ChatCluster } from './harness/chatCluster.js'
import { readTopic } from './harness/topicReader.js'

const brokers = inject('kafkaBrokers').split(',')
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const shards = 6
const conversations = 150
const historySize = 20
const timings = {
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  maxStopMs: 2000,
  leaseMarginMs: 500,
  shardSessionTimeoutMs: 4000,
  shardHeartbeatIntervalMs: 500,
}

describe('chat under node crashes', () => {
  it('gapless sequence numbers, each message once, right histories, after kill -9 and SIGSTOP', {
    timeout: 300_000,
  }, async () => {
    const seed = Number(process.env.CHAT_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31))
    console.log(`chat chaos seed ${seed} (CHAT_CHAOS_SEED=${seed} replays the same failure plan)`)
    // Two streams: the traffic's draws interleave with the plan's in time, so they must not share one.
    const random = mulberry32(seed)
    const traffic = mulberry32(seed ^ 0x5bd1e995)
    const app = uniqueName('chat-crash')
    const topics = chatTopics(`${app}.`)
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    await ensureChatTopics(admin, topics, shards)
    await admin.disconnect()

    const logDir = mkdtempSync(join(tmpdir(), 'kdp-chat-crash-'))
    const cluster = new ChatCluster({ brokers, app, topicPrefix: `${app}.`, historySize, ...timings }, logDir)
    cleanups.push(() => cluster.stopAll())
    await Promise.all(['n1', 'n2', 'n3'].map((id) => cluster.start(id)))
    await cluster.allRunning(shards)
    const out = await readTopic(brokers, topics.output)
    const blocksReader = await readTopic(brokers, topics.blocks)
    const dlq = await readTopic(brokers, topics.deadLetters)
    cleanups.push(
      () => out.stop(),
      () => blocksReader.stop(),
      () => dlq.stop(),
    )

    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
    })
    await producer.connect()
    cleanups.push(() => producer.disconnect())
    const keys = Array.from({ length: conversations }, (_, i) => `conv-${i}`)
    const sent = new Map<string, string[]>(keys.map((k) => [k, []]))
    const requested = new Map<string, number>(keys.map((k) => [k, 0]))
    let total = 0
    let requests = 0

    let chaosDone = false
    const producing = (async () => {
      let round = 0
      while (!chaosDone || total < 4000) {
        const messages = Array.from({ length: 20 }, () => {
          const key = traffic.pick(keys)
          const bodies = sent.get(key)!
          const body = `${key}#${bodies.length}`
          bodies.push(body)
          return {
            key,
            value: JSON.stringify({
              conversationKey: key,
              sender: `u${bodies.length % 3}`,
              recipients: ['ann'],
              body,
            }),
          }
        })
        await producer.send({ topic: topics.input, acks: -1, messages })
        total += messages.length
        if (++round % 6 === 0) {
          const key = traffic.pick(keys)
          await producer.send({
            topic: topics.requests,
            acks: -1,
            messages: [{ key, value: JSON.stringify({ conversationKey: key, numMsgs: traffic.int(1, 30) }) }],
          })
          requested.set(key, requested.get(key)! + 1)
          requests++
        }
        await sleep(150)
      }
    })()

    // The failure plan: fixed kinds in a seeded order and with seeded timings.
    const plan = random.shuffle([
      'kill',
      'kill',
      'kill-restart-at-once',
      'freeze',
      'freeze',
      'terminate',
    ] as const)
    const events: string[] = []
    const exitCodes: Array<number | null> = []
    for (const kind of plan) {
      await sleep(random.int(2000, 4000))
      const node = random.pick(cluster.responsive)
      if (kind === 'terminate') {
        // A clean stop under load: 0, not kdp's exit 70 for a process that missed maxStopMs.
        events.push(`SIGTERM ${node.id}, restart`)
        exitCodes.push(await cluster.terminate(node))
        await cluster.start(node.id)
      } else if (kind === 'freeze') {
        const ms = random.int(7000, 9000)
        events.push(`SIGSTOP ${node.id} ${ms} ms`)
        await cluster.freeze(node, ms)
      } else {
        const downMs = kind === 'kill' ? random.int(500, 3000) : 0
        events.push(`kill -9 ${node.id}, restart after ${downMs} ms`)
        await cluster.kill(node)
        await sleep(downMs)
        await cluster.start(node.id)
      }
    }
    chaosDone = true
    await producing
    console.log(`chaos: ${events.join('; ')}`)

    await cluster.allRunning(shards, 90_000)
    await eventually(
      `all ${total} messages numbered (logs in ${logDir})`,
      () => (out.records.length >= total ? true : undefined),
      120_000,
      500,
    )
    await eventually(
      `all ${requests} requests answered`,
      () => (blocksReader.records.length >= requests ? true : undefined),
      60_000,
    )

    // Final requests, after everything: their answers must be the exact history.
    const finals = random.shuffle(keys).slice(0, 15)
    const finalNumMsgs = new Map(finals.map((k, i) => [k, [1, historySize, 1000][i % 3]!]))
    await producer.send({
      topic: topics.requests,
      acks: -1,
      messages: finals.map((key) => ({
        key,
        value: JSON.stringify({ conversationKey: key, numMsgs: finalNumMsgs.get(key) }),
      })),
    })
    for (const key of finals) requested.set(key, requested.get(key)! + 1)
    requests += finals.length
    await eventually(
      'the final requests answered',
      () => (blocksReader.records.length >= requests ? true : undefined),
      60_000,
    )
    await sleep(1000) // anything extra (a duplicate) that is still coming arrives now

    // Outputs: per conversation, exactly the input, in order, numbered 0..n−1.
    const outputs = out.records.map((r) => ({
      r,
      o: decodeOrThrow(OutputCodec, JSON.parse(String(r.value)), 'output'),
    }))
    const got = new Map<string, Array<[string, number]>>()
    for (const { o } of outputs) {
      const list = got.get(o.conversationKey) ?? []
      list.push([o.body, o.conversationMsgSeq])
      got.set(o.conversationKey, list)
    }
    const wrong: string[] = []
    for (const key of keys) {
      const expected = sent.get(key)!.map((body, seq) => [body, seq])
      if (JSON.stringify(got.get(key) ?? []) !== JSON.stringify(expected)) wrong.push(key)
    }
    expect(
      wrong.map((k) => ({ k, sent: sent.get(k)!.length, got: got.get(k)?.slice(0, 50) })),
      `logs in ${logDir}`,
    ).toEqual([])
    expect(outputs).toHaveLength(total)

    // No zombie commit after a newer owner: per output partition and shard, tokens never go down.
    const lastToken = new Map<string, number>()
    const zombies: string[] = []
    for (const { r } of outputs) {
      const id = `${r.partition}/${r.headers['chat-shard']}`
      const token = Number(r.headers['kdp-fencing-token'])
      if (token < (lastToken.get(id) ?? 0)) zombies.push(`${id}@${r.offset}: token ${token}`)
      lastToken.set(id, Math.max(token, lastToken.get(id) ?? 0))
    }
    expect(zombies).toEqual([])

    // Requests: each answered once, from a consistent history; the final ones exactly.
    const blocks = blocksReader.records.map((r) =>
      decodeOrThrow(BlockCodec, JSON.parse(String(r.value)), 'block'),
    )
    const answered = new Map<string, number>()
    const inconsistent: string[] = []
    for (const block of blocks) {
      answered.set(block.conversationKey, (answered.get(block.conversationKey) ?? 0) + 1)
      const bodies = sent.get(block.conversationKey) ?? []
      block.latestChatter.forEach(([, body, seq], i) => {
        const first = block.latestChatter[0]![2]
        if (seq !== first + i || bodies[seq] !== body)
          inconsistent.push(`${block.conversationKey}: ${JSON.stringify(block.latestChatter)}`)
      })
      if (block.latestChatter.length > historySize)
        inconsistent.push(`${block.conversationKey}: longer than K`)
    }
    expect([...requested].filter(([k, n]) => (answered.get(k) ?? 0) !== n)).toEqual([])
    expect(inconsistent).toEqual([])
    for (const key of finals) {
      const last = blocks.filter((b) => b.conversationKey === key).at(-1)!
      const bodies = sent.get(key)!
      const count = Math.min(finalNumMsgs.get(key)!, historySize, bodies.length)
      const expected = bodies
        .map((body, seq) => [`u${(seq + 1) % 3}`, body, seq])
        .slice(bodies.length - count)
      expect(last.latestChatter, key).toEqual(expected)
    }
    expect(dlq.records).toHaveLength(0)
    expect(exitCodes).toEqual([0])

    const status = await cluster.shards()
    const starts = status.reduce((n, s) => n + s.starts, 0)
    console.log(
      `chat crash test: ${conversations} conversations, ${total} messages, ${requests} requests, ` +
        `${events.filter((e) => e.startsWith('kill')).length} kill -9, ${events.filter((e) => e.startsWith('SIGSTOP')).length} SIGSTOP, 1 SIGTERM, ` +
        `shard instances started on the live nodes: ${starts}, seed ${seed}`,
    )
  })
})
