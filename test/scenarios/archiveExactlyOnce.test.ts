// Exactly-once files under kill -9 in the middle of uploads: every produced record ends up in
// exactly one archived object. Nodes are OS processes; the sink is slowed so kills hit uploads.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { gunzipSync } from 'node:zlib'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { archiveGroupId } from '../../src/processes/archiver/index.js'
import { openSink } from '../../src/sinks/openSink.js'
import { eventually, uniqueName } from '../helpers/names.js'

const brokers = inject('kafkaBrokers').split(',')
const script = new URL('./harness/archiving-node.ts', import.meta.url).pathname
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function startNode(
  cluster: string,
  nodeId: string,
  logDir: string,
): Promise<{ child: ChildProcess; http: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      KDP_TEST_ARCHIVE_NODE: JSON.stringify({ brokers, cluster, nodeId, slowPutMs: 150 }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  child.stderr?.pipe(createWriteStream(join(logDir, `${nodeId}-${Date.now()}.log`)))
  const http = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"ready"')) resolve((JSON.parse(line) as { http: string }).http)
    })
    child.once('exit', (code) => reject(new Error(`node ${nodeId} exited with ${code}; logs in ${logDir}`)))
  })
  return { child, http }
}

describe('exactly-once files', () => {
  it('every record is in exactly one object after repeated kill -9 during uploads', {
    timeout: 300_000,
  }, async () => {
    const cluster = uniqueName('eo')
    const topic = uniqueName('eo-events')
    const archiveDir = mkdtempSync(join(tmpdir(), 'kdp-eo-archive-'))
    const logDir = mkdtempSync(join(tmpdir(), 'kdp-eo-logs-'))
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    const partitions = 4
    const perPartition = 600
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })

    const nodes = new Map<string, { child: ChildProcess; http: string }>()
    for (const id of ['a', 'b']) nodes.set(id, await startNode(cluster, id, logDir))
    const put = await fetch(`${nodes.get('a')!.http}/topics/${topic}/config`, {
      method: 'PUT',
      headers: { authorization: 'Bearer exactly-once', 'content-type': 'application/json' },
      // Files close only by record count, and every partition gets a multiple of it: no tail is left open.
      body: JSON.stringify({
        sinks: [{ id: 'local', url: `file://${archiveDir}` }],
        pathTemplate: 'all',
        parallelism: 2,
        rotation: { maxRecords: 30 },
      }),
    })
    expect(put.status).toBe(200)

    const producer = kafka.producer()
    await producer.connect()
    const producing = (async () => {
      for (let round = 0; round < perPartition / 30; round++) {
        const messages = Array.from({ length: partitions * 30 }, (_, i) => {
          const p = i % partitions
          const seq = round * 30 + Math.floor(i / partitions)
          return { partition: p, value: JSON.stringify({ p, seq }) }
        })
        await producer.send({ topic, messages })
        await sleep(150)
      }
    })()
    // Kill -9 a node three times while it uploads, restarting it each time.
    for (let kill = 0; kill < 3; kill++) {
      await sleep(2500)
      const id = kill % 2 === 0 ? 'a' : 'b'
      nodes.get(id)!.child.kill('SIGKILL')
      await sleep(300)
      nodes.set(id, await startNode(cluster, id, logDir))
    }
    await producing
    await producer.disconnect()

    const groupId = archiveGroupId(cluster, topic, 'local')
    await eventually(
      'the archive group to commit every partition to its end',
      async () => {
        const committed = await admin.fetchOffsets({ groupId, topics: [topic] })
        return committed[0]?.partitions.every((p) => p.offset === String(perPartition)) ? true : undefined
      },
      180_000,
      1000,
    )
    await admin.disconnect()

    const sink = openSink(`file://${archiveDir}`)
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
  })
})
