// The closed loop: an Auto Scaling group in moto, a launcher that runs a real `kdp-archiver` process
// for each in-service instance (and stops it when its instance is terminated), and a load that
// ramps a topic up and down. The scaler scales out as the lag grows, the nodes join and drain it,
// then the scaler drains and terminates nodes one by one down to the minimum.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { type AsgLauncher, archiverOnMoto, startAsgLauncher } from '../../services/asgLauncher.js'
import { connectKafka } from '../../src/kafka/index.js'
import { archiveGroupId } from '../../src/processes/archiver/index.js'
import { silentLogger } from '../../src/util/logging.js'
import { createAutoScalingGroup, describeGroup, motoAutoScaling, motoS3 } from '../helpers/aws.js'
import { cleanEnv } from '../helpers/commands.js'
import { eventually, eventuallyWhileMoving, uniqueName } from '../helpers/names.js'

const brokers = inject('kafkaBrokers')
const moto = inject('motoEndpoint')
const token = 'closed-loop'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const launchers: AsgLauncher[] = []
afterAll(async () => {
  await Promise.all(launchers.map((l) => l.stop(10_000)))
})

interface Event {
  readonly type: string
  readonly at: string
  readonly [field: string]: unknown
}

/** The load: per step, a rate (records/s) for a duration; records carry their partition and sequence. */
async function ramp(topic: string, partitions: number, steps: ReadonlyArray<{ rate: number; ms: number }>) {
  const producer = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).producer()
  await producer.connect()
  const sent = Array.from({ length: partitions }, () => 0)
  for (const step of steps) {
    const began = performance.now()
    let stepSent = 0
    while (performance.now() - began < step.ms) {
      const due = Math.floor((step.rate * (performance.now() - began)) / 1000) - stepSent
      if (due > 0) {
        const messages = Array.from({ length: due }, (_, i) => {
          const p = (stepSent + i) % partitions
          return { partition: p, value: JSON.stringify({ p, seq: sent[p]!++ }) }
        })
        await producer.send({ topic, messages })
        stepSent += due
      }
      await sleep(50)
    }
  }
  await producer.disconnect()
  return sent
}

describe('closed loop on moto: lag grows → scale out → nodes join → lag drains → drains and terminations down to min', () => {
  it('archives every record exactly once, capacity within min/max, every scale-in after that node’s drain, bounded decisions', {
    timeout: 840_000,
  }, async () => {
    const asg = motoAutoScaling()
    const s3 = motoS3()
    const group = uniqueName('loop-asg')
    const cluster = uniqueName('loop')
    const bucket = uniqueName('loop-bucket')
    const topic = uniqueName('loop-load')
    const partitions = 6
    const logDir = mkdtempSync(join(tmpdir(), 'kdp-loop-'))
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    await createAutoScalingGroup(asg, group, { min: 1, max: 3, desired: 1 })

    const launcher = startAsgLauncher({
      client: asg,
      group,
      logDir,
      // A node-wide in-flight bound of 20 records makes one node archive ~400 records/s here: a
      // capacity of its own that adding nodes adds to (the machine's cores would not).
      command: archiverOnMoto({
        brokers,
        cluster,
        group,
        moto,
        sink: `s3://${bucket}/default`,
        token,
        statusInterval: '1s',
        maxMessagesInFlight: 20,
        env: cleanEnv(),
      }),
    })
    launchers.push(launcher)
    const anyAddress = () => [...launcher.running().values()].find((n) => n.address !== undefined)?.address
    const first = await eventually('the first node up', anyAddress, 120_000, 250)
    const put = async (path: string, body: unknown) => {
      const response = await fetch(`${first}${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(response.status, await response.clone().text()).toBe(200)
    }
    await put('/scaling/config', {
      mode: 'auto',
      intervalMs: 1000,
      minNodes: 1,
      maxNodes: 3,
      targetLag: 2000,
      calmLag: 500,
      growingIntervals: 3,
      maxDrainMs: 20_000,
      calmIntervals: 5,
      scaleOutCooldownMs: 8000,
      scaleInCooldownMs: 8000,
      maxStepOut: 1,
      joinTimeoutMs: 60_000,
      drainTimeoutMs: 30_000,
      instanceRecordsPerSec: 350,
      // CPU is shared with the broker, moto and the test here: scale on lag only.
      cpuScaleOutPercent: 100_000,
      cpuScaleInPercent: 99_999,
    })
    const admin = connectKafka({ brokers: brokers.split(','), clientId: 'loop-admin', logger: silentLogger })
    await admin.ensureTopic({ topic, partitions, replicationFactor: 1 })
    await put(`/topics/${topic}/config`, {
      sinks: [{ id: 's3', url: `s3://${bucket}/archive` }],
      // One path, cut by count or age: any cut point replays onto the same object names.
      pathTemplate: 'all',
      rotation: { maxRecords: 200, maxAgeMs: 2000 },
    })

    // Watch the group and the cluster all along.
    const events: Event[] = []
    const tail = await admin.tail(`${cluster}-events`, (r) => {
      if (r.value) events.push(JSON.parse(r.value.toString('utf8')) as Event)
    })
    const seen: Array<{ desired: number; inService: number }> = []
    let maxSpread = 0
    let watching = true
    const watch = (async () => {
      while (watching) {
        const g = await describeGroup(asg, group).catch(() => undefined)
        if (g) seen.push({ desired: g.desired, inService: g.inService.length })
        const address = anyAddress()
        if (address) {
          const placements = (await fetch(`${address}/processes`)
            .then((r) => r.json())
            .catch(() => [])) as Array<{ key: string; nodeId: string; state: string }>
          const nodes = new Set(placements.filter((p) => p.key.startsWith(`${topic}|`)).map((p) => p.nodeId))
          maxSpread = Math.max(maxSpread, nodes.size)
        }
        await sleep(250)
      }
    })()

    // Up: 1000 records/s for 60 s (one node reads ~400/s), then nothing.
    const sent = await ramp(topic, partitions, [
      { rate: 200, ms: 5000 },
      { rate: 1000, ms: 60_000 },
    ])
    const peak = Math.max(...seen.map((s) => s.desired))
    // How long the way down takes depends on how fast this machine archives (the in-flight bound
    // makes it follow moto's latency): wait while something still moves (the lag, capacity,
    // events), and fail with what the scaler last said when nothing has for two minutes.
    const diagnosis = async () => {
      const address = anyAddress()
      const scaling = address ? await fetch(`${address}/scaling`).then((r) => r.text(), String) : 'no node'
      const lag = await admin.groupLag(archiveGroupId(cluster, topic, 's3'), topic).catch(String)
      const logs = [...launcher.running().values()]
        .map((n) => `--- ${n.instanceId}\n${readFileSync(n.log, 'utf8').split('\n').slice(-15).join('\n')}`)
        .join('\n')
      return `GET /scaling: ${scaling}\ncommitted lag: ${JSON.stringify(lag instanceof Map ? [...lag] : lag)}\nlauncher: ${JSON.stringify(launcher.history)}\nevents:\n${events.map((e) => JSON.stringify(e)).join('\n')}\n${logs}`
    }
    await eventuallyWhileMoving(
      'the group back at its minimum with one node',
      async () => {
        const g = await describeGroup(asg, group)
        return g.desired === 1 && g.inService.length === 1 && launcher.running().size === 1 ? true : undefined
      },
      async () => {
        const g = await describeGroup(asg, group)
        const lag = await admin.groupLag(archiveGroupId(cluster, topic, 's3'), topic)
        return JSON.stringify([
          g.desired,
          g.inService.length,
          launcher.running().size,
          [...lag.values()],
          events.length,
        ])
      },
      { stillMs: 120_000, maxMs: 480_000, diagnosis },
    )
    // Every record committed, then every record in exactly one object.
    await eventually(
      'the archive group committed to the end',
      async () => {
        const lag = await admin.groupLag(archiveGroupId(cluster, topic, 's3'), topic)
        return [...lag.values()].every((l) => l === 0) ? true : undefined
      },
      120_000,
      1000,
    )
    watching = false
    await watch
    await tail.stop()

    const counts = new Map<string, number>()
    let token_: string | undefined
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'archive/', ContinuationToken: token_ }),
      )
      for (const object of page.Contents ?? []) {
        const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))
        const bytes = Buffer.from(await body.Body!.transformToByteArray())
        for (const line of gunzipSync(bytes).toString('utf8').split('\n')) {
          if (!line) continue
          const { p, seq } = JSON.parse(line) as { p: number; seq: number }
          counts.set(`${p}:${seq}`, (counts.get(`${p}:${seq}`) ?? 0) + 1)
        }
      }
      token_ = page.NextContinuationToken
    } while (token_)
    const total = sent.reduce((a, b) => a + b, 0)
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([k]) => k)
    const missing: string[] = []
    sent.forEach((n, p) => {
      for (let seq = 0; seq < n; seq++) if (!counts.has(`${p}:${seq}`)) missing.push(`${p}:${seq}`)
    })
    const journal = () =>
      events
        .filter((e) => /scaling-decision|drain|terminated|capacity|warning|error|parallelism/.test(e.type))
        .map((e) => `${e.at} ${e.type} ${JSON.stringify(e)}`)
        .join('\n')
    console.log(
      `closed loop: ${total} records, peak capacity ${peak}, spread over ${maxSpread} nodes at most, ` +
        `${events.filter((e) => e.type === 'scaling-decision').length} decisions, logs in ${logDir}\n${journal()}`,
    )
    expect(duplicated, `duplicated (logs in ${logDir})`).toEqual([])
    expect(missing.length, `missing (logs in ${logDir})`).toBe(0)
    expect(counts.size).toBe(total)

    // Capacity never outside the group's bounds (the scaler checks them: moto does not).
    expect(Math.min(...seen.map((s) => s.desired))).toBeGreaterThanOrEqual(1)
    expect(peak).toBeLessThanOrEqual(3)
    expect(peak, journal()).toBe(3)
    expect(maxSpread, 'the hot topic spread over every node').toBe(3)

    // Every scale-in: that node drained first, then exactly its instance was terminated.
    const terminated = events.filter((e) => e.type === 'instance-terminated')
    expect(terminated.length, journal()).toBe(2)
    for (const t of terminated) {
      const requested = events.findIndex((e) => e.type === 'drain-requested' && e.target === t.target)
      const drained = events.findIndex((e) => e.type === 'node-drained' && e.target === t.target)
      expect(requested, journal()).toBeGreaterThanOrEqual(0)
      expect(drained, journal()).toBeGreaterThan(requested)
      expect(events.indexOf(t), journal()).toBeGreaterThan(drained)
      expect(t.instanceId).toBe(t.target)
      // The launcher stopped that node only after its instance was terminated; it never exited by itself.
      expect(launcher.history.some((h) => h.instanceId === t.target && h.what === 'stopped')).toBe(true)
    }
    // No node ever ended by itself once it ran (a start that failed on the fresh broker is retried).
    const crashes = launcher.history.filter(
      (h) =>
        h.what === 'exited' &&
        launcher.history.some((r) => r.instanceId === h.instanceId && r.what === 'ready' && r.at < h.at),
    )
    expect(crashes, `logs in ${logDir}`).toEqual([])

    // Bounded decisions, no flapping: up twice, down twice, no scale-out after the first scale-in.
    const decisions = events.filter((e) => e.type === 'scaling-decision').map((e) => String(e.action))
    expect(decisions.filter((d) => d === 'out').length, journal()).toBeLessThanOrEqual(3)
    expect(decisions.filter((d) => d === 'in').length, journal()).toBe(2)
    expect(decisions.slice(decisions.indexOf('in')), journal()).not.toContain('out')
    await admin.disconnect()
    asg.destroy()
    s3.destroy()
  })
})
