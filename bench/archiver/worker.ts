// One measured consumer, in its own OS process, run as compiled JS with plain node (no tsx):
//   baseline: a plain kafkajs 2.2.4 consumer (new group, fromBeginning) whose eachBatch only counts;
//   kdp:      one archiver instance (createArchiverFactory, as a node runs it) into a file sink.
// It loads everything, says `ready`, and starts consuming when the controller writes `go` on stdin,
// so the controller can measure the idle process first. Events are JSON lines on stdout.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { Kafka, logLevel } from 'kafkajs'
import { ArchiveMetrics, createArchiverFactory } from '../../src/processes/archiver/index.js'
import { decodeConfigFields, type TopicConfig } from '../../src/processes/state/topicConfig.js'
import { openSink } from '../../src/sinks/openSink.js'
import { createTestContext } from '../../src/testing.js'
import { createLogger } from '../../src/util/logging.js'
import type { MemorySample, WorkerConfig, WorkerEvent } from './protocol.js'

const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig

if (config.copyRecordBytes) {
  // kafkajs decodes a record's key, value and header values with readVarIntBytes, as slices of the
  // whole fetch response: one buffered record keeps the response (up to maxBytes, 10 MiB) alive.
  interface DecoderClass {
    prototype: { readVarIntBytes(this: unknown): Buffer | null }
  }
  const Decoder = createRequire(import.meta.url)('kafkajs/src/protocol/decoder.js') as DecoderClass
  const slice = Decoder.prototype.readVarIntBytes
  Decoder.prototype.readVarIntBytes = function (this: unknown): Buffer | null {
    const bytes = slice.call(this)
    if (bytes === null) return null
    // Not Buffer.from(): small copies would share 8 KiB pool slabs, a smaller case of the same thing.
    const copy = Buffer.allocUnsafeSlow(bytes.length)
    bytes.copy(copy)
    return copy
  }
}

function emit(event: WorkerEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

let profiler: Session | undefined

/** Resolves when the controller writes `go` (and, if asked, the profiler runs). */
async function go(): Promise<void> {
  await new Promise<void>((resolve) => {
    const lines = createInterface({ input: process.stdin })
    lines.on('line', (line) => {
      if (line.trim() === 'go') {
        lines.close()
        resolve()
      }
    })
  })
  if (config.profileFile) {
    profiler = new Session()
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.setSamplingInterval', { interval: 500 })
    await profiler.post('Profiler.start')
  }
}

/** Stops the profiler (if any) and writes its profile. */
async function stopProfiler(): Promise<void> {
  if (!profiler || !config.profileFile) return
  const { profile } = await profiler.post('Profiler.stop')
  writeFileSync(config.profileFile, JSON.stringify(profile))
  profiler.disconnect()
}

const POLL_MS = 5

interface Progress {
  consumed(): number
  finished(): number
}

/** Polls the counters until the run is done; returns the timings (ms since `start`). */
async function watch(
  start: number,
  progress: Progress,
  extra: () => Partial<MemorySample>,
): Promise<{ firstMs: number; consumedMs: number; doneMs: number }> {
  let firstMs = Number.NaN
  let consumedMs = Number.NaN
  const sample = (afterGc: boolean): void => {
    const m = config.countersOnly ? undefined : process.memoryUsage()
    emit({
      type: 'memory',
      t: performance.now() - start,
      ...(m !== undefined && {
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      }),
      ...extra(),
      ...(afterGc ? { afterGc } : {}),
    })
  }
  const memoryTimer =
    config.memoryEveryMs > 0 ? setInterval(() => sample(false), config.memoryEveryMs) : undefined
  let gcTimer: NodeJS.Timeout | undefined
  let gcDone = !config.gcWhenConsumed
  const collect = (globalThis as { gc?: () => void }).gc
  try {
    for (;;) {
      const now = performance.now() - start
      if (Number.isNaN(firstMs) && progress.consumed() > 0) firstMs = now
      if (Number.isNaN(consumedMs) && progress.consumed() >= config.expected) {
        consumedMs = now
        if (config.gcWhenConsumed) {
          if (!collect) throw new Error('gcWhenConsumed needs node --expose-gc')
          gcTimer = setTimeout(() => {
            collect()
            sample(true)
            gcDone = true
          }, 1000)
        }
      }
      // With gcWhenConsumed, `done` waits for the sample after the forced GC.
      if (progress.finished() >= config.expected && gcDone) return { firstMs, consumedMs, doneMs: now }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  } finally {
    if (memoryTimer) clearInterval(memoryTimer)
    if (gcTimer) clearTimeout(gcTimer)
  }
}

async function baseline(): Promise<void> {
  const kafka = new Kafka({
    brokers: [...config.brokers],
    clientId: 'bench-baseline',
    logLevel: logLevel.WARN,
  })
  // The fetch settings of kdp's own consumer (src/processes/archiver/topicConsumer.ts), so that the
  // ratio measures what the archiver does with the records, not a different fetch size or wait.
  const consumer = kafka.consumer({
    groupId: config.name,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: 1024 * 1024,
  })
  let count = 0
  let lastRecordAt = Number.NaN
  emit({ type: 'ready' })
  await go()
  const cpu = process.cpuUsage()
  const start = performance.now()
  await consumer.connect()
  await consumer.subscribe({ topic: config.topic, fromBeginning: true })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      count += batch.messages.length
      if (count >= config.expected && Number.isNaN(lastRecordAt)) lastRecordAt = performance.now() - start
    },
  })
  const timings = await watch(start, { consumed: () => count, finished: () => count }, () => ({}))
  const used = process.cpuUsage(cpu)
  await stopProfiler()
  // The counter is exact in eachBatch; the poll only notices it up to POLL_MS later.
  const doneMs = Number.isNaN(lastRecordAt) ? timings.doneMs : lastRecordAt
  emit({
    type: 'done',
    firstMs: timings.firstMs,
    consumedMs: doneMs,
    doneMs,
    cpuSeconds: (used.user + used.system) / 1e6,
    records: count,
  })
  await consumer.disconnect()
}

async function kdp(): Promise<void> {
  if (!config.sinkDir || !config.rotation) throw new Error('kdp mode needs sinkDir and rotation')
  const topicConfig: TopicConfig = {
    ...decodeConfigFields({
      // Everything else is the default: `dt={date}/hr={hour}` from the record timestamp.
      format: config.format ?? 'jsonl',
      compression: config.compression ?? 'gzip',
      rotation: {
        maxBytes: config.rotation.maxBytes,
        maxRecords: config.rotation.maxRecords,
        maxAgeMs: config.rotation.maxAgeMs,
        ...(config.rotation.idleMs !== undefined && { idleMs: config.rotation.idleMs }),
      },
    }),
    version: 1,
    topic: config.topic,
    revision: 1,
    updatedAt: new Date().toISOString(),
  }
  const metrics = new ArchiveMetrics()
  const logger = createLogger({ level: 'warn', name: 'bench-archiver' })
  const factory = createArchiverFactory({
    brokers: [...config.brokers],
    cluster: config.name,
    openSink: (url) => openSink(url),
    maxMessagesInFlight: config.maxMessagesInFlight ?? 100_000,
    maxBytesInFlight: config.maxBytesInFlight ?? 64 * 1024 * 1024,
    metrics,
    logger,
  })
  const contexts = Array.from({ length: config.instances ?? 1 }, (_, i) =>
    createTestContext({ key: `bench-${i}`, logger }),
  )
  const abort = (): void => {
    for (const c of contexts) c.abort()
  }
  emit({ type: 'ready' })
  await go()
  const cpu = process.cpuUsage()
  const start = performance.now()
  // Several instances form one consumer group, as `parallelism` does on one node.
  const running = Promise.all(
    contexts.map(({ ctx }, i) =>
      factory(topicConfig, { id: 'main', url: `file://${config.sinkDir}` }, i)(ctx),
    ),
  )
  let failure: unknown
  running.catch((error: unknown) => {
    failure = error
  })
  const timings = await watch(
    start,
    {
      consumed: () => {
        if (failure !== undefined) throw failure
        return metrics.recordsConsumed
      },
      finished: () => (config.stopWhenConsumed ? metrics.recordsConsumed : metrics.recordsArchived),
    },
    () => ({ consumed: metrics.recordsConsumed, archived: metrics.recordsArchived }),
  )
  const used = process.cpuUsage(cpu)
  await stopProfiler()
  emit({
    type: 'done',
    ...timings,
    cpuSeconds: (used.user + used.system) / 1e6,
    records: config.stopWhenConsumed ? metrics.recordsConsumed : metrics.recordsArchived,
    filesWritten: metrics.filesWritten,
    bytesArchived: metrics.bytesArchived,
    badRecords: metrics.badRecords,
    uploadFailures: metrics.uploadFailures,
  })
  abort()
  await running.catch(() => {})
}

try {
  await (config.mode === 'kdp' ? kdp() : baseline())
  process.exit(0)
} catch (error) {
  emit({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
}
