// Reconfiguration latency: from a PUT of a topic's config on one node's HTTP API to the affected
// archiver running with the new config on another node. Baseline, in the same run: a plain kafkajs
// produce → consume round trip between two clients (the floor of any change propagated through Kafka).
//
//   npx tsx bench/state/reconfigure.ts [rounds=10]
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'
import { startKafka } from '../../services/kafka.js'
import { startArchiverNode } from '../../src/processes/archiverNode.js'
import type { ArchiverFactory } from '../../src/processes/archiverSet.js'
import { silentLogger } from '../../src/util/logging.js'
import { sleep } from '../../src/util/sleep.js'

const rounds = Number(process.argv[2] ?? 10)
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const kafka = await startKafka()
const brokers = [...kafka.brokers]
try {
  // Baseline: produce on one client, consume on another, per round.
  const client = new Kafka({ brokers, logLevel: logLevel.NOTHING })
  const admin = client.admin()
  await admin.connect()
  const topic = `rt-${randomBytes(3).toString('hex')}`
  await admin.createTopics({ topics: [{ topic }], waitForLeaders: true })
  const producer = client.producer()
  await producer.connect()
  const consumer = client.consumer({ groupId: `rt-${randomBytes(3).toString('hex')}`, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const arrived = new Map<string, number>()
  await consumer.run({
    eachMessage: async ({ message }) => void arrived.set(message.value!.toString(), performance.now()),
  })
  await producer.send({ topic, messages: [{ value: 'warmup' }] })
  while (!arrived.has('warmup')) await sleep(20)
  const baseline: number[] = []
  for (let i = 0; i < rounds; i++) {
    const sent = performance.now()
    await producer.send({ topic, acks: -1, messages: [{ value: String(i) }] })
    while (!arrived.has(String(i))) await sleep(1)
    baseline.push(arrived.get(String(i))! - sent)
  }
  await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()])

  // kdp: two nodes; PUT on the node that does not run the archiver.
  const startedWith = new Map<number, number>()
  const archiver: ArchiverFactory = (config) => async (ctx) => {
    startedWith.set(config.revision, performance.now())
    while (!ctx.signal.aborted) await sleep(1000, ctx.signal)
  }
  const token = 'bench'
  const common = {
    brokers,
    cluster: `bench-${randomBytes(3).toString('hex')}`,
    include: ['none-such'],
    defaultSinks: [],
    http: { token },
    archiver,
    partitions: 8,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxStopMs: 1000,
    leaseMarginMs: 500,
    statusIntervalMs: 500,
    logger: silentLogger,
  }
  const a = await startArchiverNode({ ...common, nodeId: 'a' })
  const b = await startArchiverNode({ ...common, nodeId: 'b' })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const put = (http: string | null, maxRecords: number) =>
    fetch(`${http}/topics/bench/config`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({
        sinks: [{ id: 'local', url: 'file:///tmp/kdp-bench' }],
        rotation: { maxRecords },
      }),
    })
  await put(a.httpAddress, 1)
  while (![...a.running(), ...b.running()].some((p) => p.revision === 1)) await sleep(20)
  const kdp: number[] = []
  for (let revision = 2; revision <= rounds + 1; revision++) {
    const runner = a.running().length > 0 ? a : b
    const other = runner === a ? b : a
    const sent = performance.now()
    const response = await put(other.httpAddress, revision)
    if (response.status !== 200) throw new Error(`PUT answered ${response.status}`)
    while (!startedWith.has(revision)) await sleep(1)
    kdp.push(startedWith.get(revision)! - sent)
    await sleep(200)
  }
  await Promise.all([a.stop(), b.stop()])

  const m = median(kdp)
  const mb = median(baseline)
  process.stdout.write(
    `${JSON.stringify({
      rounds,
      putToRunningMs: {
        median: Math.round(m),
        min: Math.round(Math.min(...kdp)),
        max: Math.round(Math.max(...kdp)),
      },
      baselineRoundTripMs: { median: Math.round(mb * 10) / 10 },
      ratio: Math.round((m / mb) * 10) / 10,
    })}\n`,
  )
} finally {
  await kafka.stop()
}
