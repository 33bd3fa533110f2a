// Exactly-once files under kill -9 in the middle of uploads: every produced record ends up in
// exactly one archived object. Nodes are OS processes; the sink is slowed so kills hit uploads.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { gunzipSync } from 'node:zlib'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { archiveGroupId } from '../../src/processes/archiver/index.js'
import { openSink } from '../../src/sinks/openSink.js'
import type { Sink } from '../../src/sinks/sink.js'
import { motoS3 } from '../helpers/aws.js'
import { eventually, uniqueName } from '../helpers/names.js'
import { startTcpProxy } from '../helpers/tcpProxy.js'

const brokers = inject('kafkaBrokers').split(',')
const script = new URL('./harness/archiving-node.ts', import.meta.url).pathname
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Exit codes of nodes that ended without being killed by the test (a node ending itself fails it). */
const unexpectedExits: string[] = []
beforeEach(() => {
  unexpectedExits.length = 0
})

async function startNode(
  cluster: string,
  nodeId: string,
  logDir: string,
  extra: { s3Endpoint?: string; maxMessagesInFlight?: number; slowAfterPutMs?: number } = {},
): Promise<{ child: ChildProcess; http: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      KDP_TEST_ARCHIVE_NODE: JSON.stringify({ brokers, cluster, nodeId, slowPutMs: 150, ...extra }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  child.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL' && code !== 0) unexpectedExits.push(`${nodeId} exited with ${code ?? signal}`)
  })
  child.stderr?.pipe(createWriteStream(join(logDir, `${nodeId}-${Date.now()}.log`)))
  const http = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"ready"')) resolve((JSON.parse(line) as { http: string }).http)
    })
    child.once('exit', (code) => reject(new Error(`node ${nodeId} exited with ${code}; logs in ${logDir}`)))
  })
  return { child, http }
}

/** Waits for every partition to be committed to its end, then checks that each record is in exactly one object. */
async function expectExactlyOnce(
  admin: ReturnType<Kafka['admin']>,
  cluster: string,
  topic: string,
  archiveDir: string,
  partitions: number,
  perPartition: number,
  logDir: string,
  options: { sink?: Sink; commitWithinMs?: number } = {},
): Promise<void> {
  const groupId = archiveGroupId(cluster, topic, 'local')
  await eventually(
    'the archive group to commit every partition to its end',
    async () => {
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] })
      return committed[0]?.partitions.every((p) => p.offset === String(perPartition)) ? true : undefined
    },
    options.commitWithinMs ?? 180_000,
    1000,
  )

  const sink = options.sink ?? openSink(`file://${archiveDir}`)
  const seen = new Map<string, number>()
  for (const key of await sink.list()) {
    for (const line of gunzipSync(await sink.get(key))
      .toString('utf8')
      .split('\n')) {
      if (!line) continue
      const { p, seq } = JSON.parse(line) as { p: number; seq: number }
      seen.set(`${p}:${seq}`, (seen.get(`${p}:${seq}`) ?? 0) + 1)
    }
  }
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([k]) => k)
  const missing: string[] = []
  for (let p = 0; p < partitions; p++)
    for (let s = 0; s < perPartition; s++) if (!seen.has(`${p}:${s}`)) missing.push(`${p}:${s}`)
  expect(duplicates, `duplicated records (logs in ${logDir})`).toEqual([])
  expect(missing, `missing records (logs in ${logDir})`).toEqual([])
  expect(seen.size).toBe(partitions * perPartition)
}

/** A topic archived by the nodes, with records produced in rounds of `round` per partition meanwhile. */
async function archivedTopic(
  nodes: Map<string, { http: string }>,
  partitions: number,
  perPartition: number,
  options: { round?: number; pauseMs?: number; sinkUrl?: string; config?: Record<string, unknown> } = {},
) {
  const round = options.round ?? 30
  const topic = uniqueName('eo-events')
  const archiveDir = mkdtempSync(join(tmpdir(), 'kdp-eo-archive-'))
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  const put = await fetch(`${[...nodes.values()][0]!.http}/topics/${topic}/config`, {
    method: 'PUT',
    headers: { authorization: 'Bearer exactly-once', 'content-type': 'application/json' },
    // Files close only by record count, and every partition gets a multiple of it: no tail is left open.
    body: JSON.stringify({
      sinks: [{ id: 'local', url: options.sinkUrl ?? `file://${archiveDir}` }],
      pathTemplate: 'all',
      parallelism: 2,
      rotation: { maxRecords: 30 },
      ...options.config,
    }),
  })
  expect(put.status).toBe(200)
  const producer = kafka.producer()
  await producer.connect()
  const producing = (async () => {
    for (let r = 0; r * round < perPartition; r++) {
      const size = Math.min(round, perPartition - r * round)
      const messages = Array.from({ length: partitions * size }, (_, i) => {
        const p = i % partitions
        const seq = r * round + Math.floor(i / partitions)
        return { partition: p, value: JSON.stringify({ p, seq }) }
      })
      await producer.send({ topic, messages })
      await sleep(options.pauseMs ?? 150)
    }
  })().finally(() => producer.disconnect())
  return { topic, archiveDir, admin, producing }
}

describe('exactly-once files', () => {
  it('every record is in exactly one object after repeated kill -9 during uploads', {
    timeout: 300_000,
  }, async () => {
    const cluster = uniqueName('eo')
    const logDir = mkdtempSync(join(tmpdir(), 'kdp-eo-logs-'))
    const partitions = 4
    const perPartition = 600
    const nodes = new Map<string, { child: ChildProcess; http: string }>()
    for (const id of ['a', 'b']) nodes.set(id, await startNode(cluster, id, logDir))
    const { topic, archiveDir, admin, producing } = await archivedTopic(nodes, partitions, perPartition)
    // Kill -9 a node three times while it uploads, restarting it each time.
    for (let kill = 0; kill < 3; kill++) {
      await sleep(2500)
      const id = kill % 2 === 0 ? 'a' : 'b'
      nodes.get(id)!.child.kill('SIGKILL')
      await sleep(300)
      nodes.set(id, await startNode(cluster, id, logDir))
    }
    await producing
    await expectExactlyOnce(admin, cluster, topic, archiveDir, partitions, perPartition, logDir)
    await admin.disconnect()
    expect(unexpectedExits).toEqual([])
  })

  it('three nodes under random kill -9 (restarted at once) and SIGSTOP past the session: exactly once, and no healthy node ends itself', {
    timeout: 360_000,
  }, async () => {
    const seed = Number(process.env.KDP_SCENARIO_SEED ?? Date.now() % 1_000_000)
    console.log(`archive chaos seed ${seed} (KDP_SCENARIO_SEED=${seed} repeats it)`)
    let state = seed
    const random = (): number => {
      state = (state * 1664525 + 1013904223) >>> 0
      return state / 2 ** 32
    }
    const cluster = uniqueName('eo')
    const logDir = mkdtempSync(join(tmpdir(), 'kdp-eo-logs-'))
    const partitions = 6
    const perPartition = 900
    const nodes = new Map<string, { child: ChildProcess; http: string }>()
    for (const id of ['a', 'b', 'c']) nodes.set(id, await startNode(cluster, id, logDir))
    const { topic, archiveDir, admin, producing } = await archivedTopic(nodes, partitions, perPartition)
    const events: string[] = []
    for (let i = 0; i < 6; i++) {
      await sleep(1500 + Math.floor(random() * 2000))
      const id = ['a', 'b', 'c'][Math.floor(random() * 3)]!
      const node = nodes.get(id)!
      if (random() < 0.5) {
        events.push(`kill -9 ${id} + restart`)
        node.child.kill('SIGKILL')
        nodes.set(id, await startNode(cluster, id, logDir))
      } else {
        // Past the session (6 s): its group moves its archivers; when it resumes, its own stop must
        // stay within maxStop, or the node would end itself (exit 70).
        events.push(`SIGSTOP ${id} 8 s`)
        node.child.kill('SIGSTOP')
        await sleep(8000)
        node.child.kill('SIGCONT')
      }
    }
    await producing
    await expectExactlyOnce(admin, cluster, topic, archiveDir, partitions, perPartition, logDir)
    await admin.disconnect()
    expect(unexpectedExits, `events: ${events.join(', ')} (seed ${seed}, logs in ${logDir})`).toEqual([])
  })

  it('cuts a replay cannot see (idle, age, memory bound) under kill -9, SIGSTOP and an S3 outage: exactly once, all committed after the load', {
    timeout: 420_000,
  }, async () => {
    const seed = Number(process.env.KDP_SCENARIO_SEED ?? Date.now() % 1_000_000)
    console.log(`archive cuts seed ${seed} (KDP_SCENARIO_SEED=${seed} repeats it)`)
    let state = seed
    const random = (): number => {
      state = (state * 1664525 + 1013904223) >>> 0
      return state / 2 ** 32
    }
    const cluster = uniqueName('eo')
    const logDir = mkdtempSync(join(tmpdir(), 'kdp-eo-logs-'))
    const bucket = uniqueName('eo-bucket')
    await motoS3().send(new CreateBucketCommand({ Bucket: bucket }))
    // The nodes reach S3 through a proxy the test cuts: an outage in the middle of uploads.
    const proxy = await startTcpProxy(Number(new URL(inject('motoEndpoint')).port))
    // Stored files wait up to 1.5 s for their commit, so that kills land between upload and commit.
    const extra = {
      s3Endpoint: `http://127.0.0.1:${proxy.port}`,
      maxMessagesInFlight: 150,
      slowAfterPutMs: 1500,
    }
    const partitions = 4
    const perPartition = 700
    const nodes = new Map<string, { child: ChildProcess; http: string }>()
    for (const id of ['a', 'b', 'c']) nodes.set(id, await startNode(cluster, id, logDir, extra))
    // Files of up to 1,000 records never fill: every cut is made by a rule a replay cannot see —
    // the node-wide bound of 150 records in flight, a 3 s wall-clock age, 1.5 s without a record.
    const idleMs = 1500
    const { topic, archiveDir, admin, producing } = await archivedTopic(nodes, partitions, perPartition, {
      // 19 rounds 2 s apart: the load lasts through the failures below.
      round: 37,
      pauseMs: 2000,
      sinkUrl: `s3://${bucket}/eo`,
      config: { rotation: { maxRecords: 1000, maxAgeMs: 3000, idleMs } },
    })
    const events: string[] = []
    for (let i = 0; i < 6; i++) {
      await sleep(1500 + Math.floor(random() * 1500))
      const id = ['a', 'b', 'c'][Math.floor(random() * 3)]!
      const node = nodes.get(id)!
      const what = random()
      if (i === 2) {
        events.push('S3 outage 5 s')
        await proxy.cut()
        await sleep(5000)
        await proxy.restore()
      } else if (what < 0.5) {
        events.push(`kill -9 ${id} + restart`)
        node.child.kill('SIGKILL')
        nodes.set(id, await startNode(cluster, id, logDir, extra))
      } else {
        events.push(`SIGSTOP ${id} 8 s`)
        node.child.kill('SIGSTOP')
        await sleep(8000)
        node.child.kill('SIGCONT')
      }
    }
    await producing
    console.log(`events: ${events.join(', ')}`)
    // Once the load stops, the idle rule cuts every partition's last files: all committed within
    // idleMs plus the time to settle (a bound generous enough for a shared 2-core machine).
    const sink = openSink(`s3://${bucket}/eo`, {
      s3: {
        endpoint: inject('motoEndpoint'),
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      },
    })
    await expectExactlyOnce(admin, cluster, topic, archiveDir, partitions, perPartition, logDir, {
      sink,
      commitWithinMs: idleMs + 120_000,
    })
    await admin.disconnect()
    await proxy.close()
    expect(unexpectedExits, `events: ${events.join(', ')} (seed ${seed}, logs in ${logDir})`).toEqual([])
  })
})
