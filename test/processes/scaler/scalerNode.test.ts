// The scaler inside real archiving nodes (in this process) on the suite's broker: its config record,
// recommend-only decisions for Kubernetes, and parallelism `auto` spreading a hot topic over nodes.
import { describe, expect, it } from 'vitest'
import { connectKafka } from '../../../src/kafka/index.js'
import { silentLogger } from '../../../src/util/logging.js'
import { capturingLogger } from '../../helpers/logs.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { auth, brokers, followEvents, produceSteadily, putJson, startNode } from './harness.js'

async function createTopic(topic: string, partitions: number): Promise<void> {
  const client = connectKafka({ brokers, clientId: 'scaler-test-admin', logger: silentLogger })
  await client.ensureTopic({ topic, partitions, replicationFactor: 1 })
  await client.disconnect()
}

async function json<T>(response: Response): Promise<T> {
  return JSON.parse(await response.text()) as T
}

describe('the scaler config', () => {
  it('is a record of its own in the config topic: written on one node, read on another, refused with field paths', async () => {
    const cluster = uniqueName('sc')
    const logs = capturingLogger()
    const a = await startNode(cluster, 'a', { logger: logs })
    const b = await startNode(cluster, 'b')
    const put = await putJson(`${a.httpAddress}/scaling/config`, {
      mode: 'recommend',
      intervalMs: 500,
      maxNodes: 4,
    })
    expect(put.status).toBe(200)
    expect(await json(put)).toMatchObject({
      version: 1,
      revision: 1,
      mode: 'recommend',
      intervalMs: 500,
      maxNodes: 4,
      minNodes: 1,
    })
    // Read-your-write on the writer; the other node follows.
    expect(await json(await fetch(`${a.httpAddress}/scaling/config`))).toMatchObject({ revision: 1 })
    await eventually('b reads the new scaler config', async () => {
      const config = await json<{ revision: number }>(await fetch(`${b.httpAddress}/scaling/config`))
      return config.revision === 1 ? true : undefined
    })

    const bad = await putJson(`${b.httpAddress}/scaling/config`, {
      scaleOutCooldownMs: -1,
      colour: 'red',
      mode: 'sometimes',
    })
    expect(bad.status).toBe(400)
    const fields = (await json<{ fields: Array<{ path: string }> }>(bad)).fields.map((f) => f.path).sort()
    expect(fields).toEqual(['colour', 'mode', 'scaleOutCooldownMs'])
    const crossed = await putJson(`${b.httpAddress}/scaling/config`, { minNodes: 5, maxNodes: 2 })
    expect(crossed.status).toBe(400)
    expect(await json(crossed)).toMatchObject({ error: 'invalid_body', fields: [{ path: 'minNodes' }] })
    const noAuth = await fetch(`${b.httpAddress}/scaling/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(noAuth.status).toBe(401)
    expect(await json(await fetch(`${a.httpAddress}/scaling/config`))).toMatchObject({
      revision: 1,
      mode: 'recommend',
    })

    // The topic-config store neither lists nor complains about the scaler's record.
    const topics = await json<Array<{ topic: string }>>(await fetch(`${a.httpAddress}/topics`))
    expect(topics.map((t) => t.topic)).not.toContain('kdp:scaler')
    expect(a.configs.list()).toEqual([])
    expect(logs.lines.filter((l) => l.message.includes('does not decode'))).toEqual([])
  })
})

describe('recommend only (Kubernetes)', () => {
  it('recommends more replicas when a topic’s lag keeps growing, on every node, with the reason and an event; no AWS', async () => {
    const cluster = uniqueName('sr')
    const topic = uniqueName('rec')
    const events = await followEvents(cluster)
    const a = await startNode(cluster, 'a')
    const b = await startNode(cluster, 'b')
    const config = {
      mode: 'recommend',
      intervalMs: 500,
      growingIntervals: 3,
      calmLag: 10,
      targetLag: 1_000_000_000,
      // One node per decision: how many the lag's rate would ask for depends on the machine's speed.
      maxStepOut: 1,
    }
    expect((await putJson(`${a.httpAddress}/scaling/config`, config)).status).toBe(200)
    await createTopic(topic, 4)
    const put = await putJson(`${a.httpAddress}/topics/${topic}/config`, {
      sinks: [{ id: 'local', url: 'file:///tmp/kdp-scaler-test' }],
    })
    expect(put.status).toBe(200)
    // The stand-in archivers never commit: the lag grows with every record.
    produceSteadily(topic, 4, 200)
    const decided = await eventually(
      'a scale-out recommendation',
      async () => {
        const answer = await json<{ action: string; recommendedReplicas: number }>(
          await fetch(`${b.httpAddress}/scaling`),
        )
        return answer.action === 'out' ? answer : undefined
      },
      60_000,
      250,
    )
    expect(decided).toMatchObject({
      action: 'out',
      recommendedReplicas: 3,
      currentReplicas: 2,
      mode: 'recommend',
      actsOnAws: false,
      minReplicas: 1,
      maxReplicas: 10,
    })
    expect(JSON.stringify(decided)).toMatch(new RegExp(`${topic}→local: lag grew 3 intervals in a row`))
    const event = await eventually('the decision event', () =>
      events.find((e) => e.type === 'scaling-decision'),
    )
    expect(event).toMatchObject({ action: 'out', from: 2, to: 3 })
    // The same answer on the other node: it is the cluster's decision, read from Kafka.
    expect(await json(await fetch(`${a.httpAddress}/scaling`))).toMatchObject({ recommendedReplicas: 3 })
    // Asked-for replicas that never come: it waits for them instead of asking again and again.
    await new Promise((r) => setTimeout(r, 3000))
    expect(events.filter((e) => e.type === 'scaling-decision')).toHaveLength(1)
    expect(await json(await fetch(`${a.httpAddress}/scaling`))).toMatchObject({
      action: 'hold',
      recommendedReplicas: 3,
      reason: expect.stringMatching(/waiting for 1 of 3 nodes to join/),
    })
  })
})

describe('parallelism auto', () => {
  it('spreads a hot topic’s archivers over the nodes, one per node, and a quiet topic keeps one', async () => {
    const cluster = uniqueName('sp')
    const hot = uniqueName('hot')
    const quiet = uniqueName('quiet')
    const events = await followEvents(cluster)
    const nodes = [
      await startNode(cluster, 'a'),
      await startNode(cluster, 'b'),
      await startNode(cluster, 'c'),
    ]
    // Off: no cluster-size decisions, only topic sizing; 50 rec/s per archiver makes 300 rec/s hot.
    const config = { mode: 'off', intervalMs: 500, instanceRecordsPerSec: 50, growingIntervals: 2 }
    expect((await putJson(`${nodes[0]!.httpAddress}/scaling/config`, config)).status).toBe(200)
    await createTopic(hot, 6)
    await createTopic(quiet, 6)
    for (const topic of [hot, quiet]) {
      const put = await fetch(`${nodes[0]!.httpAddress}/topics/${topic}/config`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ sinks: [{ id: 'local', url: 'file:///tmp/kdp-scaler-test' }] }),
      })
      expect(put.status).toBe(200)
    }
    produceSteadily(hot, 6, 300)
    const where = (topic: string) =>
      nodes.map(
        (n) => n.running().filter((p) => p.key.startsWith(`${topic}|`) && p.state === 'running').length,
      )
    const spread = await eventually(
      'the hot topic on every node, once each',
      () => {
        const counts = where(hot)
        return counts.every((c) => c === 1) ? counts : undefined
      },
      90_000,
      250,
    )
    expect(spread).toEqual([1, 1, 1])
    expect(where(quiet).reduce((a, b) => a + b, 0)).toBe(1)
    // The event is read from the events topic: it may arrive a moment after the placement.
    const last = await eventually(
      'the hot topic’s parallelism-changed event to 3 instances',
      () => {
        const latest = events.filter((e) => e.type === 'parallelism-changed' && e.topic === hot).at(-1)
        return latest?.to === 3 ? latest : undefined
      },
      30_000,
      250,
    )
    expect(last).toMatchObject({ to: 3 })
    // The placement every node reads: three slots for the one sink.
    expect(nodes[1]!.running().filter((p) => p.key.startsWith(`${hot}|local|`)).length).toBe(1)
  })
})
