// Archive throughput against a plain kafkajs consumer on the same data.
//
//   npm run bench:archiver -- throughput [--records 200000] [--partitions 8] [--reps 3]
//        [--max-records 5000] [--max-bytes 67108864] [--max-age-ms 1000] [--in-flight-bytes 268435456]
//        [--no-uncompressed] [--profile] [--keep-logs]
//
// Produces N fake tweets of 1 KiB once to a topic on a fresh local broker, then alternates, on that
// same data: a plain kafkajs 2.2.4 consumer that only counts (new group, fromBeginning), and one kdp
// archiver instance (JSON Lines, gzip, default path template from the record timestamp, file sink)
// until every record is archived. Files are cut by record count (5,000 ≈ 5 MB, deterministic: the
// exactly-once setting) and the node's default in-flight bound (256 MiB) applies; `--max-age-ms`
// adds the wall-clock rule, which then decides when the last files of a run are written; and, to show what gzip costs, the same archiver with
// `compression: none`. Each run is its own OS process running compiled JS, with its own
// fresh consumer group. `--profile` adds one kdp run with a V8 CPU profile of its main thread
// (from `go` to done) and stand-alone timings of the archiver's per-record and per-file steps. Raw results: bench/results/archiver-throughput.json.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import { fakeTweets } from '../../src/loadgen/tweets.js'
import { encodeFile } from '../../src/processes/archiver/fileEncoding.js'
import type { OpenFile } from '../../src/processes/archiver/fileRotation.js'
import { PathRenderer } from '../../src/processes/archiver/pathTemplate.js'
import {
  baseTimestamp,
  codeVersion,
  compileWorker,
  load,
  log,
  MiB,
  machine,
  otherBenchmarks,
  produceTweets,
  readArchive,
  recordBytes,
  recordsInTopic,
  resultsDir,
  round,
  startBroker,
  startWorker,
  summarize,
} from './common.js'
import { summarizeProfile } from './profile.js'
import type { DoneEvent, RotationSettings, WorkerConfig } from './protocol.js'

const gzip = promisify(gzipCallback)

interface Options {
  records: number
  partitions: number
  reps: number
  rotation: RotationSettings
  inFlightBytes: number
  uncompressed: boolean
  profile: boolean
  keepLogs: boolean
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    records: 200_000,
    partitions: 8,
    reps: 3,
    rotation: { maxRecords: 5000, maxBytes: 64 * MiB, maxAgeMs: null },
    inFlightBytes: 256 * MiB,
    uncompressed: true,
    profile: false,
    keepLogs: false,
  }
  const int = (i: number, name: string): number => {
    const n = Number(argv[i])
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--records') options.records = int(++i, arg)
    else if (arg === '--partitions') options.partitions = int(++i, arg)
    else if (arg === '--reps') options.reps = int(++i, arg)
    else if (arg === '--max-records') options.rotation = { ...options.rotation, maxRecords: int(++i, arg) }
    else if (arg === '--max-bytes') options.rotation = { ...options.rotation, maxBytes: int(++i, arg) }
    else if (arg === '--max-age-ms') options.rotation = { ...options.rotation, maxAgeMs: int(++i, arg) }
    else if (arg === '--no-max-age') options.rotation = { ...options.rotation, maxAgeMs: null }
    else if (arg === '--in-flight-bytes') options.inFlightBytes = int(++i, arg)
    else if (arg === '--no-uncompressed') options.uncompressed = false
    else if (arg === '--profile') options.profile = true
    else if (arg === '--keep-logs') options.keepLogs = true
    else throw new Error(`unknown argument '${arg}' (see the header of bench/archiver/throughput.ts)`)
  }
  return options
}

/** kdp-none: the archiver with `compression: none` (everything else equal). */
type Mode = 'baseline' | 'kdp' | 'kdp-none'

interface RunResult {
  readonly mode: Mode
  readonly rep: number
  readonly firstMs: number
  readonly consumedMs: number
  readonly doneMs: number
  readonly cpuSeconds: number
  readonly recordsPerSecond: number
  readonly megabytesPerSecond: number
  readonly files?: number
  readonly archivedBytes?: number
  readonly verified?: { lines: number; distinctIds: number; files: number }
}

/** Stand-alone timings of the archiver's steps on the same kind of records (this process, no Kafka). */
async function stepTimings(): Promise<Record<string, number>> {
  let clock = baseTimestamp
  const tweets = fakeTweets({ seed: 7, valueBytes: recordBytes, keys: 10_000, now: () => clock++ })
  const count = 25_000
  const values: Buffer[] = []
  for (let i = 0; i < count; i++) values.push(Buffer.from(tweets.next().value.value))
  const time = (work: () => void): number => {
    work() // warm-up
    const started = performance.now()
    work()
    return performance.now() - started
  }
  const parseMs = time(() => {
    for (const v of values) JSON.parse(v.toString('utf8'))
  })
  // As the archiver does it: one renderer per archiver, time fields formatted once per minute.
  const paths = new PathRenderer('dt={date}/hr={hour}', 'UTC', 'hour')
  const timePartsMs = time(() => {
    for (let i = 0; i < count; i++) paths.render(baseTimestamp + i, null)
  })
  const file: OpenFile = {
    path: 'dt=2026-11-22/hr=10',
    startOffset: 0,
    lastOffset: count - 1,
    records: values.map((body, offset) => ({ offset, body, timeMs: baseTimestamp, sortKey: undefined })),
    bytes: count * (recordBytes + 1),
    minTimeMs: baseTimestamp,
    maxTimeMs: baseTimestamp,
    openedAt: 0,
    count,
  }
  const plain = Buffer.concat(values.flatMap((v) => [v, Buffer.from('\n')]))
  const concatMs = time(() => {
    Buffer.concat(values.flatMap((v) => [v, Buffer.from('\n')]))
  })
  await gzip(plain)
  let started = performance.now()
  const compressed = await gzip(plain)
  const gzipMs = performance.now() - started
  started = performance.now()
  await encodeFile(file, 'jsonl', 'gzip', false)
  const encodeMs = performance.now() - started
  // For comparison only: the fastest gzip level (kdp uses zlib's default, level 6).
  await gzip(plain, { level: 1 })
  started = performance.now()
  const fast = await gzip(plain, { level: 1 })
  const gzip1Ms = performance.now() - started
  return {
    records: count,
    plainBytes: plain.length,
    gzipBytes: compressed.length,
    jsonParseUsPerRecord: round((parseMs * 1000) / count, 3),
    pathUsPerRecord: round((timePartsMs * 1000) / count, 3),
    concatUsPerRecord: round((concatMs * 1000) / count, 3),
    gzipMBps: round(plain.length / 1e6 / (gzipMs / 1000), 1),
    gzipRatio: round(plain.length / compressed.length, 1),
    gzipLevel1MBps: round(plain.length / 1e6 / (gzip1Ms / 1000), 1),
    gzipLevel1Ratio: round(plain.length / fast.length, 1),
    gzipUsPerRecord: round((gzipMs * 1000) / count, 3),
    encodeFileUsPerRecord: round((encodeMs * 1000) / count, 3),
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  compileWorker()
  const others = otherBenchmarks()
  if (others.length > 0)
    log(`WARNING: other benchmarks are running, numbers may be distorted:\n  ${others.join('\n  ')}`)
  const code = codeVersion()
  const logDir = mkdtempSync(join(tmpdir(), 'kdp-bench-archiver-'))
  const { cluster, admin, kafka, shutdown } = await startBroker()
  let failed = false
  try {
    const runId = randomBytes(3).toString('hex')
    const topic = `bench-tweets-${runId}`
    const n = options.records
    await admin.createTopics({
      topics: [{ topic, numPartitions: options.partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    })
    log(
      `producing ${n.toLocaleString('en')} records of ${recordBytes} B to ${topic} (${options.partitions} partitions)`,
    )
    const produceSeconds = await produceTweets(kafka, topic, options.partitions, n)
    const inTopic = await recordsInTopic(admin, topic)
    if (inTopic !== n) throw new Error(`the topic holds ${inTopic} records, expected ${n}`)
    log(`produced in ${produceSeconds.toFixed(1)} s`)
    const inputMB = (n * recordBytes) / 1e6

    let seq = 0
    const run = async (mode: Mode, rep: number, profileFile?: string): Promise<RunResult> => {
      seq++
      const sinkDir = mode === 'baseline' ? undefined : mkdtempSync(join(tmpdir(), 'kdp-bench-archive-'))
      const config: WorkerConfig = {
        mode: mode === 'baseline' ? 'baseline' : 'kdp',
        ...(mode === 'kdp-none' ? { compression: 'none' as const } : {}),
        ...(profileFile ? { profileFile } : {}),
        brokers: cluster.brokers,
        topic,
        name: `bench-${runId}-${mode}-${seq}`,
        expected: n,
        memoryEveryMs: 0,
        ...(sinkDir
          ? {
              sinkDir,
              rotation: options.rotation,
              maxBytesInFlight: options.inFlightBytes,
              maxMessagesInFlight: 10_000_000,
            }
          : {}),
      }
      const worker = startWorker(config, join(logDir, `${seq}-${mode}.log`))
      try {
        await worker.ready
        worker.go()
        const timeout = new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`${mode} run ${rep} did not finish in 10 minutes`)),
            600_000,
          ).unref(),
        )
        const done: DoneEvent = await Promise.race([worker.done, timeout])
        await worker.exited
        const seconds = done.doneMs / 1000
        let verified: RunResult['verified']
        if (sinkDir) {
          const archive = readArchive(sinkDir, mode === 'kdp-none' ? 'none' : 'gzip')
          verified = { lines: archive.lines, distinctIds: archive.distinctIds, files: archive.files }
          if (archive.lines !== n || archive.distinctIds !== n)
            throw new Error(
              `kdp run ${rep}: ${archive.lines} lines, ${archive.distinctIds} distinct ids, expected ${n}`,
            )
        }
        const result: RunResult = {
          mode,
          rep,
          firstMs: Math.round(done.firstMs),
          consumedMs: Math.round(done.consumedMs),
          doneMs: Math.round(done.doneMs),
          cpuSeconds: round(done.cpuSeconds, 2),
          recordsPerSecond: Math.round(n / seconds),
          megabytesPerSecond: round(inputMB / seconds, 1),
          ...(done.filesWritten !== undefined
            ? { files: done.filesWritten, archivedBytes: done.bytesArchived }
            : {}),
          ...(verified ? { verified } : {}),
        }
        log(
          `${mode} #${rep}: ${result.doneMs} ms (first record ${result.firstMs} ms, all consumed ${result.consumedMs} ms), ` +
            `${result.recordsPerSecond.toLocaleString('en')} rec/s, ${result.megabytesPerSecond} MB/s, CPU ${result.cpuSeconds} s` +
            (verified ? `, ${verified.files} files, ${verified.lines} lines verified` : ''),
        )
        return result
      } finally {
        worker.kill()
        if (sinkDir) rmSync(sinkDir, { recursive: true, force: true })
      }
    }

    log('warm-up: one baseline run, not counted')
    const warmUp = await run('baseline', 0)
    const runs: RunResult[] = []
    const loadBefore = load()
    const startedAt = new Date().toISOString()
    for (let rep = 1; rep <= options.reps; rep++) {
      runs.push(await run('baseline', rep))
      runs.push(await run('kdp', rep))
      if (options.uncompressed) runs.push(await run('kdp-none', rep))
    }
    const loadAfter = load()
    const of = (
      mode: Mode,
      key: 'recordsPerSecond' | 'megabytesPerSecond' | 'doneMs' | 'consumedMs' | 'firstMs' | 'cpuSeconds',
    ) => summarize(runs.filter((r) => r.mode === mode).map((r) => r[key]))
    const baseline = of('baseline', 'recordsPerSecond')
    const kdp = of('kdp', 'recordsPerSecond')
    const ratio = round(kdp.median / baseline.median, 2)
    // Throughput of kdp up to the last record consumed (before the tail files are uploaded).
    const kdpConsumedRate = summarize(
      runs.filter((r) => r.mode === 'kdp').map((r) => Math.round(n / (r.consumedMs / 1000))),
    )

    let profile: Record<string, unknown> | undefined
    if (options.profile) {
      log('profile: one more kdp run with a CPU profile of its main thread (not counted)')
      const file = join(logDir, 'kdp.cpuprofile')
      const profiled = await run('kdp', 0, file)
      const steps = await stepTimings()
      profile = {
        run: profiled,
        mainThread: summarizeProfile(file),
        steps,
        estimatedForAllRecordsMs: {
          jsonParse: Math.round((steps.jsonParseUsPerRecord! * n) / 1000),
          pathTemplate: Math.round((steps.pathUsPerRecord! * n) / 1000),
          concat: Math.round((steps.concatUsPerRecord! * n) / 1000),
          gzipOnePoolThread: Math.round((steps.gzipUsPerRecord! * n) / 1000),
        },
      }
      log(`profile: ${JSON.stringify(profile, null, 1)}`)
    }

    const record = {
      benchmark: 'archiver-throughput',
      startedAt,
      settings: {
        records: n,
        recordBytes,
        inputMB: round(inputMB, 1),
        partitions: options.partitions,
        reps: options.reps,
        rotation: options.rotation,
        maxBytesInFlight: options.inFlightBytes,
        format: 'jsonl',
        compression: 'gzip',
        pathTemplate: 'dt={date}/hr={hour} (record timestamp, UTC)',
        sink: 'file (temp dir, fsync + rename)',
        consumer: {
          sessionTimeout: 30_000,
          heartbeatInterval: 3000,
          maxWaitTimeInMs: 500,
          maxBytesPerPartition: MiB,
        },
        produceSeconds: round(produceSeconds, 1),
      },
      results: {
        baselineRecordsPerSecond: baseline,
        kdpRecordsPerSecond: kdp,
        ratio,
        baselineMBps: of('baseline', 'megabytesPerSecond'),
        kdpMBps: of('kdp', 'megabytesPerSecond'),
        baselineMs: of('baseline', 'doneMs'),
        kdpMs: of('kdp', 'doneMs'),
        kdpConsumedMs: of('kdp', 'consumedMs'),
        kdpRecordsPerSecondUntilConsumed: kdpConsumedRate,
        baselineCpuSeconds: of('baseline', 'cpuSeconds'),
        kdpCpuSeconds: of('kdp', 'cpuSeconds'),
        ...(options.uncompressed
          ? {
              uncompressedRecordsPerSecond: of('kdp-none', 'recordsPerSecond'),
              uncompressedMBps: of('kdp-none', 'megabytesPerSecond'),
              uncompressedRatio: round(of('kdp-none', 'recordsPerSecond').median / baseline.median, 2),
              uncompressedCpuSeconds: of('kdp-none', 'cpuSeconds'),
            }
          : {}),
        target: 0.7,
        met: ratio >= 0.7,
      },
      runs,
      warmUp,
      profile,
      machine: machine(),
      code,
      otherBenchmarksAtStart: others,
      otherBenchmarksAtEnd: otherBenchmarks(),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
    }
    mkdirSync(resultsDir, { recursive: true })
    writeFileSync(join(resultsDir, 'archiver-throughput.json'), `${JSON.stringify(record, null, 2)}\n`)
    process.stdout.write(
      `${JSON.stringify({
        benchmark: 'archiver-throughput',
        baselineRecordsPerSecond: baseline.median,
        kdpRecordsPerSecond: kdp.median,
        ratio,
        baselineMBps: record.results.baselineMBps.median,
        kdpMBps: record.results.kdpMBps.median,
      })}\n`,
    )
  } catch (error) {
    failed = true
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  } finally {
    await shutdown()
    if (!failed && !options.keepLogs) rmSync(logDir, { recursive: true, force: true })
    else log(`worker logs in ${logDir}`)
  }
  process.exit(failed ? 1 : 0)
}

await main()
