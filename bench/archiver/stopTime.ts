// How long an archiver takes to settle after its abort, which is what the archive cluster's default
// maxStopMs must cover (src/processes/archiverNode.ts). One archiver instance, as a node runs it,
// archiving a topic that is being written to; aborted at a random moment, `--reps` times, in three
// conditions: a normal file sink; a sink whose every write takes 2 s (uploads are in flight at the
// abort); and the broker killed just before the abort (its LeaveGroup cannot be answered).
//
//   npx tsx bench/archiver/stopTime.ts [--reps 8]
//
// Writes bench/results/archiver-stop-time.json; docs/benchmarks.md quotes it.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { startKafka } from '../../services/kafka.js'
import { ArchiveMetrics, createArchiverFactory } from '../../src/processes/archiver/index.js'
import { decodeConfigFields } from '../../src/processes/state/topicConfig.js'
import { openSink } from '../../src/sinks/openSink.js'
import type { Sink } from '../../src/sinks/sink.js'
import { createTestContext } from '../../src/testing.js'
import { silentLogger } from '../../src/util/logging.js'
import { sleep } from '../../src/util/sleep.js'
import { load, machine, resultsDir, round, summarize } from './common.js'

const repsArg = process.argv.indexOf('--reps')
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 8
const maxStopMs = 5000
const conditions = ['file sink', 'sink writes take 2 s', 'broker gone'] as const

function slowed(inner: Sink, ms: number): Sink {
  return {
    url: inner.url,
    put: async (key, body, metadata, signal) => {
      await sleep(ms, signal)
      if (signal?.aborted) throw new Error('aborted')
      await inner.put(key, body, metadata, signal)
    },
    create: async (key, body, metadata, signal) => {
      await sleep(ms, signal)
      if (signal?.aborted) throw new Error('aborted')
      return inner.create(key, body, metadata, signal)
    },
    list: (prefix) => inner.list(prefix),
    get: (key) => inner.get(key),
    close: () => inner.close(),
  }
}

async function measure(condition: (typeof conditions)[number], rep: number): Promise<number> {
  const cluster = await startKafka()
  const kafka = new Kafka({ brokers: [...cluster.brokers], logLevel: logLevel.NOTHING })
  const topic = `stop-${rep}`
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  let producing = true
  const writing = (async () => {
    for (let i = 0; producing; i++) {
      await producer
        .send({
          topic,
          messages: Array.from({ length: 200 }, (_, j) => ({
            value: JSON.stringify({ i, j, pad: 'x'.repeat(900) }),
          })),
        })
        .catch(() => {})
      await sleep(20)
    }
  })()
  const dir = mkdtempSync(join(tmpdir(), 'kdp-stop-'))
  const factory = createArchiverFactory({
    brokers: cluster.brokers,
    cluster: `stop-${rep}`,
    openSink: (url) => (condition === 'sink writes take 2 s' ? slowed(openSink(url), 2000) : openSink(url)),
    maxMessagesInFlight: 100_000,
    maxBytesInFlight: 256 * 2 ** 20,
    metrics: new ArchiveMetrics(),
    logger: silentLogger,
  })
  const config = {
    ...decodeConfigFields({ pathTemplate: 'all', rotation: { maxRecords: 2000 } }),
    version: 1 as const,
    topic,
    revision: 1,
    updatedAt: new Date().toISOString(),
  }
  const { ctx, abort } = createTestContext({ maxStopMs })
  const running = factory(config, { id: 'local', url: `file://${dir}` }, 0)(ctx)
  await sleep(4000 + Math.random() * 3000)
  if (condition === 'broker gone') await cluster.kill(0)
  const began = performance.now()
  abort()
  await running.catch(() => {})
  const tookMs = performance.now() - began
  producing = false
  await writing
  await producer.disconnect().catch(() => {})
  await factory.close().catch(() => {})
  await cluster.stop()
  return tookMs
}

const results: Record<string, ReturnType<typeof summarize>> = {}
const loadBefore = load()
for (const condition of conditions) {
  const samples: number[] = []
  for (let rep = 0; rep < reps; rep++) {
    const ms = await measure(condition, rep)
    samples.push(round(ms, 0))
    process.stderr.write(`${condition} ${rep + 1}/${reps}: settled ${Math.round(ms)} ms after its abort\n`)
  }
  results[condition] = summarize(samples)
}
const record = {
  at: new Date().toISOString(),
  maxStopMs,
  reps,
  results,
  loadBefore,
  loadAfter: load(),
  machine: machine(),
}
writeFileSync(join(resultsDir, 'archiver-stop-time.json'), `${JSON.stringify(record, null, 2)}\n`)
process.stdout.write(`${JSON.stringify(results)}\n`)
process.exit(0)
