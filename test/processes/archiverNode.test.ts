// Cluster state, master and HTTP API together: two nodes in this process, the suite's real broker.
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { type ArchiverNode, startArchiverNode } from '../../src/processes/archiverNode.js'
import type { ArchiverFactory } from '../../src/processes/archiverSet.js'
import { silentLogger } from '../../src/util/logging.js'
import { sleep } from '../../src/util/sleep.js'
import { eventually, uniqueName } from '../helpers/names.js'

const brokers = inject('kafkaBrokers').split(',')
const token = 'test-token-not-a-secret'
const nodes: ArchiverNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})

/** An archiver factory that counts starts per key and keeps the revision each started with. */
function recordingArchivers() {
  const starts = new Map<string, number[]>()
  const factory: ArchiverFactory = (config, sink, index) => async (ctx) => {
    const key = `${config.topic}|${sink.id}|${index}`
    starts.set(key, [...(starts.get(key) ?? []), config.revision])
    while (!ctx.signal.aborted) await sleep(1000, ctx.signal)
  }
  return { starts, factory }
}

async function cluster(
  count: number,
  cluster: string,
  factory: ArchiverFactory,
  include = ['.*'],
  extra: Partial<Parameters<typeof startArchiverNode>[0]> = {},
) {
  for (let i = 0; i < count; i++) {
    nodes.push(
      await startArchiverNode({
        brokers,
        cluster,
        nodeId: `${cluster}-n${i}`,
        include,
        exclude: ['.*-private'],
        defaultSinks: [{ id: 'local', url: 'file:///tmp/kdp-test-archive' }],
        http: { token },
        archiver: factory,
        statusIntervalMs: 500,
        discoveryIntervalMs: 500,
        partitions: 8,
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 500,
        maxStopMs: 1000,
        leaseMarginMs: 500,
        logger: silentLogger,
        ...extra,
      }),
    )
  }
  return nodes.slice(-count)
}

async function createTopics(...topics: string[]) {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: 2 })),
    waitForLeaders: true,
  })
  await admin.disconnect()
}

const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

describe('an archiving cluster of two nodes', () => {
  it('discovers matching topics within a discovery interval and leaves excluded and internal ones alone', async () => {
    const name = uniqueName('c')
    const prefix = uniqueName('disc')
    const { factory } = recordingArchivers()
    const [a, b] = await cluster(2, name, factory, [`${prefix}-.*`])
    await createTopics(`${prefix}-orders`, `${prefix}-orders-private`, `other-${prefix}`)
    const config = await eventually('the new topic configured', () => b!.configs.get(`${prefix}-orders`))
    expect(config).toMatchObject({
      version: 1,
      revision: 1,
      sinks: [{ id: 'local', url: 'file:///tmp/kdp-test-archive' }],
      format: 'jsonl',
      compression: 'gzip',
    })
    await sleep(1500) // three more discovery rounds
    expect(a!.configs.list().map((c) => c.topic)).toEqual([`${prefix}-orders`])
    const statuses = await (await fetch(`${a!.httpAddress}/nodes`)).json()
    expect((statuses as Array<{ nodeId: string }>).map((s) => s.nodeId).sort()).toEqual([
      `${name}-n0`,
      `${name}-n1`,
    ])
  })

  it("leaves another kdp cluster's own topics on the same Kafka alone, and that cluster leaves ours", async () => {
    const prefix = uniqueName('two')
    const { factory } = recordingArchivers()
    // Both clusters' names match both includes: each sees the other's configs, status, events... topics.
    const [a] = await cluster(1, `${prefix}-a`, factory, [`${prefix}-.*`])
    const [b] = await cluster(1, `${prefix}-b`, factory, [`${prefix}-.*`])
    await createTopics(`${prefix}-orders`)
    for (const node of [a!, b!])
      await eventually('orders configured', () => node.configs.get(`${prefix}-orders`))
    await sleep(1500) // three more discovery rounds of each master
    expect(a!.configs.list().map((c) => c.topic)).toEqual([`${prefix}-orders`])
    expect(b!.configs.list().map((c) => c.topic)).toEqual([`${prefix}-orders`])
  })

  it('reads its own write after a PUT, and the other node serves it too', async () => {
    const name = uniqueName('c')
    const { factory } = recordingArchivers()
    const [a, b] = await cluster(2, name, factory, ['none-such'])
    const put = await fetch(`${a!.httpAddress}/topics/payments/config`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ sinks: [{ id: 's3', url: 's3://bucket-1/raw' }], parallelism: 2 }),
    })
    expect(put.status).toBe(200)
    const got = await fetch(`${a!.httpAddress}/topics/payments/config`)
    expect(await got.json()).toMatchObject({ topic: 'payments', parallelism: 2, revision: 1 })
    await eventually('b serves it', async () =>
      (await fetch(`${b!.httpAddress}/topics/payments/config`)).status === 200 ? true : undefined,
    )
    const bad = await fetch(`${b!.httpAddress}/topics/payments/config`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ parallelism: 'x' }),
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { fields: Array<{ path: string }> }).fields.map((f) => f.path)).toEqual([
      'parallelism',
    ])
  })

  it('a config change restarts only that topic’s archivers, with the new config; pause and resume', async () => {
    const name = uniqueName('c')
    const { starts, factory } = recordingArchivers()
    const [a, b] = await cluster(2, name, factory, ['none-such'])
    for (const topic of ['t1', 't2']) {
      const r = await fetch(`${a!.httpAddress}/topics/${topic}/config`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ sinks: [{ id: 'local', url: 'file:///tmp/x' }], parallelism: 3 }),
      })
      expect(r.status).toBe(200)
    }
    const running = () => [...a!.running(), ...b!.running()]
    await eventually('6 archivers running', () => (running().length === 6 ? true : undefined))
    const before = new Map([...starts].map(([k, v]) => [k, v.length]))

    const change = await fetch(`${b!.httpAddress}/topics/t1/config`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({
        sinks: [{ id: 'local', url: 'file:///tmp/x' }],
        parallelism: 3,
        rotation: { maxRecords: 10 },
      }),
    })
    expect(change.status).toBe(200)
    await eventually('t1 archivers on revision 2', () =>
      running()
        .filter((p) => p.key.startsWith('t1|'))
        .every((p) => p.revision === 2) && running().length === 6
        ? true
        : undefined,
    )
    for (const [key, count] of before) {
      const now = starts.get(key)?.length ?? 0
      if (key.startsWith('t1|')) expect(starts.get(key)?.at(-1), key).toBe(2)
      expect(now - count, key).toBe(key.startsWith('t1|') ? 1 : 0)
    }

    expect(
      (
        await fetch(`${a!.httpAddress}/topics/t2/pause`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(200)
    await eventually('t2 archivers stopped', () =>
      running().some((p) => p.key.startsWith('t2|')) ? undefined : true,
    )
    expect(
      (
        await fetch(`${a!.httpAddress}/topics/t2/resume`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(200)
    await eventually('t2 archivers back', () =>
      running().filter((p) => p.key.startsWith('t2|')).length === 3 ? true : undefined,
    )
  })

  it('warns when the cluster is under heavy use: an event, and a warning in the master node’s status', async () => {
    const name = uniqueName('c')
    const { factory } = recordingArchivers()
    // Thresholds every node exceeds, so the warning is certain.
    const [a] = await cluster(2, name, factory, ['none-such'], { heavyUse: { cpuPercent: -1, rssBytes: 1 } })
    const warned = await eventually('a heavy-use warning in a status record', () =>
      a!.status.nodes().find((n) => n.warnings.some((w) => w.startsWith('heavy use:'))),
    )
    expect(warned.warnings.join(' ')).toMatch(/memory \d+ MiB > 0 MiB/)
    const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
      groupId: uniqueName('events'),
    })
    const events: Array<{ type: string; reasons?: string[] }> = []
    await consumer.connect()
    await consumer.subscribe({ topic: `${name}-events`, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => void events.push(JSON.parse(message.value!.toString())),
    })
    const heavy = await eventually('a heavy-use event', () => events.find((e) => e.type === 'heavy-use'))
    await consumer.disconnect()
    expect(heavy.reasons?.length).toBeGreaterThan(0)
  })
})
