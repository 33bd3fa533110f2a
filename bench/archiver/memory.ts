// Memory of one archiver on a topic with many partitions, under the node-wide in-flight bound.
//
//   npm run bench:archiver -- memory [--partitions 200] [--per-partition 3000] [--bound 67108864]
//        [--max-age-ms 60000] [--no-control] [--what-if] [--keep-logs]
//
// Produces `partitions × per-partition` fake tweets of 1 KiB (3,000 ≈ 3 MiB per partition) to a fresh
// local broker, then runs, each in its own OS process (compiled JS, plain node), one after the other:
//   1. a plain kafkajs 2.2.4 consumer (kdp's fetch settings) that only counts: what kafkajs itself
//      needs to read this topic (its fetch buffers), the allowance beyond the bound;
//   2. one kdp archiver with maxBytesInFlight = the bound and a rotation so large (maxBytes 1 GiB,
//      maxRecords 10 M) that only the bound (and, for the tail, `maxAgeMs`) ever cuts a file;
//   3. (control, unless --no-control) the same archiver without a bound (maxBytesInFlight 8 GiB, no
//      maxAgeMs), stopped once every record is consumed: how memory grows when nothing bounds it;
//   4. (what-if, with --what-if) run 2 again with kafkajs patched in the worker so that record bytes
//      are copies rather than slices of the fetch response (see `copyRecordBytes` in protocol.ts).
//      This measured the fix before it was made: the archiver copies what it buffers since 5e57aa7,
//      so the what-if now only shows the cost of a second copy.
// The RSS of each process is read from /proc/<pid>/status every 200 ms: first for 3 s after it has
// loaded everything (idle base: modules loaded, factory made, not connected), then while it consumes.
// 1 s after its last record is consumed, each worker forces a full GC (node --expose-gc) and reports
// what is still alive. The bounded run's archive is read back: every record must be there exactly once.
// Raw results: bench/results/archiver-memory.json.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
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
  sampleRss,
  startBroker,
  startWorker,
  summarize,
} from './common.js'
import type { DoneEvent, MemorySample, WorkerConfig } from './protocol.js'

interface Options {
  partitions: number
  perPartition: number
  bound: number
  maxAgeMs: number
  control: boolean
  whatIf: boolean
  keepLogs: boolean
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    partitions: 200,
    perPartition: 3000,
    bound: 64 * MiB,
    maxAgeMs: 60_000,
    control: true,
    whatIf: false,
    keepLogs: false,
  }
  const int = (i: number, name: string): number => {
    const n = Number(argv[i])
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--partitions') options.partitions = int(++i, arg)
    else if (arg === '--per-partition') options.perPartition = int(++i, arg)
    else if (arg === '--bound') options.bound = int(++i, arg)
    else if (arg === '--max-age-ms') options.maxAgeMs = int(++i, arg)
    else if (arg === '--no-control') options.control = false
    else if (arg === '--what-if') options.whatIf = true
    else if (arg === '--no-what-if') options.whatIf = false
    else if (arg === '--keep-logs') options.keepLogs = true
    else throw new Error(`unknown argument '${arg}' (see the header of bench/archiver/memory.ts)`)
  }
  return options
}

const SAMPLE_MS = 200
const IDLE_MS = 3000

interface MemoryRun {
  readonly name: string
  readonly settings: Record<string, unknown>
  /** Median RSS over the idle window before `go`, MiB. */
  readonly baseMiB: number
  /** Largest RSS sample after `go`, MiB. */
  readonly peakMiB: number
  /** VmHWM at the end: the peak the kernel saw, also between samples (and before `go`). */
  readonly hwmMiB: number
  readonly growthMiB: number
  /** From the worker's own process.memoryUsage() samples: the largest of each, MiB. */
  readonly peakHeapUsedMiB: number
  readonly peakArrayBuffersMiB: number
  readonly peakExternalMiB: number
  /**
   * 1 s after the last record was consumed, right after a forced full GC: what is really alive (MiB),
   * and (kdp) what the archiver holds by its own count, (consumed − archived) × (1 KiB + newline).
   */
  readonly afterGc?: { rss: number; heapUsed: number; arrayBuffers: number; accountedInFlight?: number }
  readonly done: DoneEvent
  /** RSS over time (MiB), one point per 200 ms sample, for the record. */
  readonly rssTimeline: ReadonlyArray<readonly [number, number]>
  readonly workerTimeline: ReadonlyArray<Record<string, number>>
}

/** Undefined (a sample without memory fields; this script never asks for those): NaN. */
const toMiB = (bytes: number | undefined): number => round((bytes ?? Number.NaN) / MiB, 1)

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
    const topic = `bench-many-${runId}`
    const n = options.partitions * options.perPartition
    await admin.createTopics({
      topics: [{ topic, numPartitions: options.partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    })
    log(
      `producing ${n.toLocaleString('en')} records of ${recordBytes} B to ${topic} ` +
        `(${options.partitions} partitions × ${options.perPartition.toLocaleString('en')})`,
    )
    const produceSeconds = await produceTweets(kafka, topic, options.partitions, n)
    const inTopic = await recordsInTopic(admin, topic)
    if (inTopic !== n) throw new Error(`the topic holds ${inTopic} records, expected ${n}`)
    log(`produced in ${produceSeconds.toFixed(1)} s`)

    const measure = async (name: string, config: WorkerConfig): Promise<MemoryRun> => {
      const worker = startWorker(config, join(logDir, `${name}.log`), ['--expose-gc'])
      try {
        await worker.ready
        // Let start-up garbage settle, then the idle window.
        await new Promise((resolve) => setTimeout(resolve, 1000))
        const idle = sampleRss(worker.pid, SAMPLE_MS)
        await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
        idle.stop()
        const base = summarize(idle.samples.map((s) => s.rss)).median
        const busy = sampleRss(worker.pid, SAMPLE_MS)
        worker.go()
        const timeout = new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`${name} did not finish in 15 minutes`)), 900_000).unref(),
        )
        const done = await Promise.race([worker.done, timeout])
        const { hwm } = busy.stop()
        await worker.exited
        const peak = Math.max(...busy.samples.map((s) => s.rss))
        const maxOf = (key: keyof MemorySample): number =>
          Math.max(0, ...worker.samples.map((s) => Number(s[key] ?? 0)))
        const gc = worker.samples.find((s) => s.afterGc)
        const afterGc = gc
          ? {
              rss: toMiB(gc.rss),
              heapUsed: toMiB(gc.heapUsed),
              arrayBuffers: toMiB(gc.arrayBuffers),
              ...(gc.consumed !== undefined
                ? { accountedInFlight: toMiB((gc.consumed - (gc.archived ?? 0)) * (recordBytes + 1)) }
                : {}),
            }
          : undefined
        const run: MemoryRun = {
          name,
          settings: { ...config, brokers: undefined },
          baseMiB: toMiB(base),
          peakMiB: toMiB(peak),
          hwmMiB: toMiB(hwm ?? Number.NaN),
          growthMiB: toMiB(peak - base),
          peakHeapUsedMiB: toMiB(maxOf('heapUsed')),
          peakArrayBuffersMiB: toMiB(maxOf('arrayBuffers')),
          peakExternalMiB: toMiB(maxOf('external')),
          ...(afterGc ? { afterGc } : {}),
          done,
          rssTimeline: busy.samples.map((s) => [s.t, toMiB(s.rss)] as const),
          workerTimeline: worker.samples.map((s) => ({
            t: Math.round(s.t),
            rss: toMiB(s.rss),
            heapUsed: toMiB(s.heapUsed),
            arrayBuffers: toMiB(s.arrayBuffers),
            ...(s.consumed !== undefined ? { consumed: s.consumed, archived: s.archived ?? 0 } : {}),
            ...(s.afterGc ? { afterGc: 1 } : {}),
          })),
        }
        log(
          `${name}: base ${run.baseMiB} MiB, peak ${run.peakMiB} MiB (VmHWM ${run.hwmMiB}), growth ${run.growthMiB} MiB; ` +
            `peak heapUsed ${run.peakHeapUsedMiB} MiB, peak arrayBuffers ${run.peakArrayBuffersMiB} MiB; ` +
            `consumed in ${Math.round(done.consumedMs)} ms, done in ${Math.round(done.doneMs)} ms` +
            (afterGc
              ? `; after a full GC once all consumed: arrayBuffers ${afterGc.arrayBuffers} MiB, heapUsed ` +
                `${afterGc.heapUsed} MiB` +
                (afterGc.accountedInFlight !== undefined
                  ? `, accounted in flight ${afterGc.accountedInFlight} MiB`
                  : '')
              : ''),
        )
        return run
      } finally {
        worker.kill()
      }
    }

    const startedAt = new Date().toISOString()
    const loadBefore = load()
    const common = {
      brokers: cluster.brokers,
      topic,
      expected: n,
      memoryEveryMs: SAMPLE_MS,
      gcWhenConsumed: true,
    }
    const baseline = await measure('baseline', {
      ...common,
      mode: 'baseline',
      name: `bench-${runId}-baseline`,
    })

    const rotation = { maxBytes: 1024 * MiB, maxRecords: 10_000_000, maxAgeMs: options.maxAgeMs }
    /** A bounded archiver run, and its archive read back. */
    const boundedRun = async (
      name: string,
      copyRecordBytes: boolean,
    ): Promise<{ run: MemoryRun; archive: ReturnType<typeof readArchive>; complete: boolean }> => {
      const sinkDir = mkdtempSync(join(tmpdir(), 'kdp-bench-archive-'))
      try {
        const run = await measure(name, {
          ...common,
          mode: 'kdp',
          name: `bench-${runId}-${name}`,
          sinkDir,
          rotation,
          maxBytesInFlight: options.bound,
          maxMessagesInFlight: 10_000_000,
          ...(copyRecordBytes ? { copyRecordBytes } : {}),
        })
        log(`${name}: reading the archive back`)
        const archive = readArchive(sinkDir)
        const complete = archive.lines === n && archive.distinctIds === n
        log(
          `${name}: ${archive.files} files, ${archive.lines.toLocaleString('en')} lines, ` +
            `${archive.distinctIds.toLocaleString('en')} distinct records (expected ${n.toLocaleString('en')}): ` +
            `${complete ? 'every record exactly once' : 'MISMATCH'}`,
        )
        return { run, archive, complete }
      } finally {
        rmSync(sinkDir, { recursive: true, force: true })
      }
    }
    const { run: bounded, archive, complete } = await boundedRun('kdp-bounded', false)

    let control: MemoryRun | undefined
    if (options.control) {
      const controlDir = mkdtempSync(join(tmpdir(), 'kdp-bench-archive-'))
      try {
        control = await measure('kdp-unbounded', {
          ...common,
          mode: 'kdp',
          name: `bench-${runId}-unbounded`,
          sinkDir: controlDir,
          rotation: { ...rotation, maxAgeMs: null },
          maxBytesInFlight: 8 * 1024 * MiB,
          maxMessagesInFlight: 10_000_000,
          stopWhenConsumed: true,
        })
      } finally {
        rmSync(controlDir, { recursive: true, force: true })
      }
    }
    const whatIf = options.whatIf ? await boundedRun('kdp-bounded-copied-what-if', true) : undefined
    const loadAfter = load()

    // The allowance beyond the bound: what kafkajs alone grows by reading this topic (measured),
    // plus one file being encoded (its concatenated copy and its gzip output, from the archive).
    const kafkajsAllowance = baseline.growthMiB
    const encodeAllowance = toMiB(archive.largestPlainBytes + archive.largestFileBytes)
    const boundMiB = toMiB(options.bound)
    const limit = round(bounded.baseMiB + boundMiB + kafkajsAllowance + encodeAllowance, 1)
    const record = {
      benchmark: 'archiver-memory',
      startedAt,
      settings: {
        partitions: options.partitions,
        recordsPerPartition: options.perPartition,
        records: n,
        recordBytes,
        inputMiB: toMiB(n * recordBytes),
        maxBytesInFlight: options.bound,
        rotation,
        sampleEveryMs: SAMPLE_MS,
        idleWindowMs: IDLE_MS,
        produceSeconds: round(produceSeconds, 1),
      },
      results: {
        boundMiB,
        kdpBaseMiB: bounded.baseMiB,
        kdpPeakMiB: bounded.peakMiB,
        kdpHwmMiB: bounded.hwmMiB,
        kdpAfterGcWhenConsumed: bounded.afterGc,
        kafkajsAllowanceMiB: kafkajsAllowance,
        encodeAllowanceMiB: encodeAllowance,
        limitMiB: limit,
        withinBoundPlusAllowance: bounded.peakMiB <= limit,
        withinBoundAlone: bounded.peakMiB <= bounded.baseMiB + boundMiB,
        archive: { ...archive, expected: n, complete },
        controlPeakMiB: control?.peakMiB,
        ...(whatIf
          ? {
              whatIfCopied: {
                baseMiB: whatIf.run.baseMiB,
                peakMiB: whatIf.run.peakMiB,
                peakArrayBuffersMiB: whatIf.run.peakArrayBuffersMiB,
                afterGcWhenConsumed: whatIf.run.afterGc,
                withinBoundPlusAllowance:
                  whatIf.run.peakMiB <=
                  whatIf.run.baseMiB +
                    boundMiB +
                    kafkajsAllowance +
                    toMiB(whatIf.archive.largestPlainBytes + whatIf.archive.largestFileBytes),
                complete: whatIf.complete,
              },
            }
          : {}),
      },
      runs: { baseline, bounded, control, whatIf: whatIf?.run },
      machine: machine(),
      code,
      otherBenchmarksAtStart: others,
      otherBenchmarksAtEnd: otherBenchmarks(),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
    }
    mkdirSync(resultsDir, { recursive: true })
    writeFileSync(join(resultsDir, 'archiver-memory.json'), `${JSON.stringify(record, null, 2)}\n`)
    process.stdout.write(
      `${JSON.stringify({ benchmark: 'archiver-memory', ...record.results, archive: undefined, complete })}\n`,
    )
    if (!complete || (whatIf && !whatIf.complete)) failed = true
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
