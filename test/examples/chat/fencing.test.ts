// Fencing, deterministically: a second producer with a shard's transactional id (what a zombie
// owner is) fences the running shard; the shard restarts, its initTransactions fences the zombie
// back and aborts the zombie's open transaction. Nothing the zombie wrote is ever visible.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { decodeOrThrow, OutputCodec } from '../../../examples/chat/messages.js'
import { shardIds } from '../../../examples/chat/shard.js'
import { chatTopics, ensureChatTopics, homePartition } from '../../../examples/chat/topics.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { ChatCluster } from './harness/chatCluster.js'
import { readTopic } from './harness/topicReader.js'

const brokers = inject('kafkaBrokers').split(',')
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
})

describe('chat: fencing a zombie', () => {
  it("a zombie's producer is fenced by the new owner's initTransactions and its writes are never seen", {
    timeout: 120_000,
  }, async () => {
    const app = uniqueName('chat-fence')
    const topics = chatTopics(`${app}.`)
    const shards = 2
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
      mkdtempSync(join(tmpdir(), 'kdp-chat-fence-')),
    )
    cleanups.push(() => cluster.stopAll())
    await cluster.start('n1')
    await cluster.allRunning(shards)
    const out = await readTopic(brokers, topics.output)
    cleanups.push(() => out.stop())

    const key = ['k1', 'k2', 'k3', 'k4'].find((k) => homePartition(k, shards) === 0)!
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true })
    await producer.connect()
    cleanups.push(() => producer.disconnect())
    const send = (body: string) =>
      producer.send({
        topic: topics.input,
        acks: -1,
        messages: [
          { key, value: JSON.stringify({ conversationKey: key, sender: 'bob', recipients: ['ann'], body }) },
        ],
      })
    await send('m0')
    await eventually('m0 numbered', () => (out.records.length >= 1 ? true : undefined))
    const startsBefore = (await cluster.shards()).find((s) => s.shard === 0)!.starts

    // The zombie: shard 0's transactional id, an open transaction with a forged output record.
    const zombie = kafka.producer({
      transactionalId: shardIds(app, 0).transactionalId,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    })
    await zombie.connect()
    cleanups.push(() => zombie.disconnect())
    const zombieTransaction = await zombie.transaction() // initTransactions: the running shard is fenced now
    await zombieTransaction.send({
      topic: topics.output,
      messages: [
        {
          key,
          value: JSON.stringify({
            conversationKey: key,
            sender: 'zombie',
            recipients: [],
            body: 'forged',
            conversationMsgSeq: 1,
          }),
        },
      ],
    })

    // The shard's next transaction fails; it restarts and fences the zombie in turn.
    for (let i = 1; i <= 5; i++) await send(`m${i}`)
    await eventually('m1..m5 numbered', () => (out.records.length >= 6 ? true : undefined), 60_000)
    await expect(zombieTransaction.commit()).rejects.toThrow(/epoch|fenced/i)

    const outputs = out.records.map((r) => decodeOrThrow(OutputCodec, JSON.parse(String(r.value)), 'output'))
    expect(outputs.map((o) => [o.body, o.conversationMsgSeq])).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => [`m${i}`, i]),
    )
    const shard0 = (await cluster.shards()).find((s) => s.shard === 0)!
    expect(shard0.starts).toBe(startsBefore + 1)
    expect(shard0.lastError).toMatch(/epoch|fenced/i)
    expect(shard0.phase).toBe('running')
  })
})
