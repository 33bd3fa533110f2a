// `npm run bench:archiver -- peers`: kdp-archiver against its JVM peers on the same broker and data.
//   ConsumerPerformance (kafka-tools 4.1): the plain JVM consumer, the limit of reading the topic.
//   Kafka Connect 4.1 standalone, FileStreamSinkConnector, StringConverter: tasks.max 1, then 2;
//   for gzip, the same work through JDK gzip at kdp's level (bench/peers/gzip-sink: no connector
//   on Maven Central writes gzip files).
//   kdp: one node process with 1, then 2 archiver instances (one group), then two node processes
//        with one archiver each (kdp's way to use more cores: a node's archivers share its event
//        loop); file sink, JSON Lines (every value checked to be JSON, which Connect does not
//        do) and `lines` (values written as they are, Connect's work), compression none and gzip.
// Data: `--records` (400,000) fake tweets of 1 KiB JSON on `--partitions` (8). Throughput is the
// output between 10 % and 70 % of it (records × 1,025 bytes: a line and its newline), so that start-up
// and the last file's tail count for no one. RSS: peak (VmHWM) of the measured process (of two
// nodes: the sum of their peaks). Medians over
// `--reps` (3) rounds; in each round every mode runs once, in the same order.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { cacheDir, freePort, repoRoot } from '../../services/process.js'
import { GZIP_LEVEL } from '../../src/processes/archiver/compression.js'
import {
  codeVersion,
  compileWorker,
  load,
  log,
  machine,
  otherBenchmarks,
  produceTweets,
  readArchive,
  recordBytes,
  resultsDir,
  round,
  sampleRss,
  startBroker,
  startWorker,
  summarize,
  type Worker,
} from './common.js'
import { type ProfileSummary, summarizeProfile } from './profile.js'

interface Options {
  records: number
  partitions: number
  reps: number
  maxRecords: number
  keepLogs: boolean
  only: string[] | undefined
  /** Adds one run of this kdp mode (`--profile <mode>`) with a CPU profile of its main thread, summarized. */
  profile: string | undefined
  /** Flags for kdp's node processes (`--node-args '--single-threaded-gc'`), to try V8 and Node settings. */
  nodeArgs: string[]
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    records: 400_000,
    partitions: 8,
    reps: 3,
    maxRecords: 5000,
    keepLogs: false,
    only: undefined,
    profile: undefined,
    nodeArgs: [],
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = (): number => {
      const v = Number(argv[++i])
      if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} needs a positive integer`)
      return v
    }
    if (flag === '--records') options.records = value()
    else if (flag === '--partitions') options.partitions = value()
    else if (flag === '--reps') options.reps = value()
    else if (flag === '--max-records') options.maxRecords = value()
    else if (flag === '--keep-logs') options.keepLogs = true
    else if (flag === '--profile') options.profile = argv[++i]
    else if (flag === '--node-args') options.nodeArgs = (argv[++i] ?? '').split(' ').filter((a) => a !== '')
    else if (flag === '--only') options.only = (argv[++i] ?? '').split(',')
    else throw new Error(`unknown argument ${flag}`)
  }
  return options
}

const lineBytes = recordBytes + 1
const peersLibs = join(cacheDir, 'bench-peers', 'libs')

/** A series of (ms, records written) → records/s × line bytes between 10 % and 70 % of `total`. */
function windowRate(series: ReadonlyArray<{ t: number; n: number }>, total: number): number {
  const at = (fraction: number): number => {
    const target = total * fraction
    for (let i = 1; i < series.length; i++) {
      const a = series[i - 1] as { t: number; n: number }
      const b = series[i] as { t: number; n: number }
      if (b.n >= target) return b.n === a.n ? b.t : a.t + ((target - a.n) / (b.n - a.n)) * (b.t - a.t)
    }
    throw new Error(`the output never reached ${fraction * 100} %`)
  }
  return ((0.6 * total * lineBytes) / (at(0.7) - at(0.1))) * 1000
}

/** What one run of a mode measured. */
type Measured = Omit<Run, 'mode' | 'rep' | 'load'>

interface Run {
  readonly mode: string
  readonly rep: number
  readonly bytesPerSec: number
  readonly peakRss: number | undefined
  /** kdp on one node: the CPU time of the node process, all threads, from `go` to the last record. */
  readonly cpuSeconds?: number
  /** kdp on one node: the files it wrote. */
  readonly files?: number
  readonly load: number[]
}

function java(args: readonly string[], logFile: string): ChildProcess {
  const child = spawn(
    'java',
    [
      '-Xms256M',
      '-Xmx2G',
      `-Dlog4j2.configurationFile=${join(repoRoot, 'bench', 'peers', 'log4j2.properties')}`,
      '-cp',
      `${peersLibs}/*`,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const out = createWriteStream(logFile, { flags: 'a' })
  child.stderr?.pipe(out)
  return child
}

/** ConsumerPerformance with per-100 ms stats: its own count of records over time. */
async function consumerPerformance(brokers: string, topic: string, records: number, logFile: string) {
  const child = java(
    [
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      brokers,
      '--topic',
      topic,
      '--messages',
      String(records),
      '--group',
      `perf-${Date.now()}`,
      '--show-detailed-stats',
      '--reporting-interval',
      '100',
      '--timeout',
      '120000',
    ],
    logFile,
  )
  const rss = sampleRss(child.pid ?? 0, 100)
  const series: Array<{ t: number; n: number }> = [{ t: 0, n: 0 }]
  createInterface({ input: child.stdout! }).on('line', (line) => {
    // time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
    const fields = line.split(',').map((f) => f.trim())
    const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d):(\d{3})$/.exec(fields[0] ?? '')
    if (!match || fields.length < 6) return
    series.push({ t: Date.parse(`${match[1]}T${match[2]}.${match[3]}`), n: Number(fields[4]) })
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  const { hwm } = rss.stop()
  if (code !== 0) throw new Error(`ConsumerPerformance exited with ${code} (log: ${logFile})`)
  const first = series[1]?.t ?? 0
  const points = [{ t: 0, n: 0 }, ...series.slice(1).map((p) => ({ t: p.t - first + 100, n: p.n }))]
  return { bytesPerSec: windowRate(points, records), peakRss: hwm }
}

/**
 * Connect standalone with FileStreamSinkConnector (progress: the output file's size over time) or,
 * for `gzip`, with bench/peers/gzip-sink's GzipFileSinkConnector (FileStreamSink's work through
 * JDK gzip at kdp's level; progress: the records each task printed it had written). A gzip run is
 * stopped gracefully and its files read back: they must hold every record.
 */
async function connect(
  brokers: string,
  topic: string,
  records: number,
  tasks: number,
  compression: 'gzip' | 'none',
  logFile: string,
) {
  const dir = mkdtempSync(join(tmpdir(), 'kdp-bench-connect-'))
  // The gzip sink writes a file per task ({task}: its number).
  const output = join(dir, compression === 'gzip' ? 'out-{task}.jsonl.gz' : 'out.jsonl')
  const name = `bench-sink-${Date.now()}`
  writeFileSync(
    join(dir, 'worker.properties'),
    [
      `bootstrap.servers=${brokers}`,
      'key.converter=org.apache.kafka.connect.storage.StringConverter',
      'value.converter=org.apache.kafka.connect.storage.StringConverter',
      `offset.storage.file.filename=${join(dir, 'offsets')}`,
      `listeners=http://127.0.0.1:${await freePort()}`,
    ].join('\n'),
  )
  writeFileSync(
    join(dir, 'connector.properties'),
    [
      `name=${name}`,
      compression === 'gzip'
        ? `connector.class=dev.kdp.bench.GzipFileSinkConnector\ngzip.level=${GZIP_LEVEL}`
        : 'connector.class=org.apache.kafka.connect.file.FileStreamSinkConnector',
      `tasks.max=${tasks}`,
      `topics=${topic}`,
      `file=${output}`,
    ].join('\n'),
  )
  const child = java(
    [
      'org.apache.kafka.connect.cli.ConnectStandalone',
      join(dir, 'worker.properties'),
      join(dir, 'connector.properties'),
    ],
    logFile,
  )
  const rss = sampleRss(child.pid ?? 0, 100)
  const started = performance.now()
  const series: Array<{ t: number; n: number }> = [{ t: 0, n: 0 }]
  // gzip: "progress <task> <records written>" after each batch.
  const written = new Map<string, number>()
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const match = /^progress (\d+) (\d+)$/.exec(line)
    if (match) written.set(match[1] as string, Number(match[2]))
  })
  const progress = (): number => {
    if (compression === 'gzip') return [...written.values()].reduce((a, b) => a + b, 0)
    try {
      return statSync(output).size / lineBytes
    } catch {
      return 0 // Not created yet.
    }
  }
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Connect exited with ${child.exitCode} (log: ${logFile})`)
      const n = progress()
      series.push({ t: performance.now() - started, n })
      if (n >= records) break
      if (performance.now() - started > 300_000) throw new Error(`Connect did not finish (log: ${logFile})`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const result = { bytesPerSec: windowRate(series, records), peakRss: rss.stop().hwm }
    if (compression === 'gzip') {
      await stopGracefully(child)
      const { lines, distinctIds } = readArchive(dir, 'gzip')
      if (lines !== records || distinctIds !== records)
        throw new Error(
          `Connect's gzip files hold ${lines} records (${distinctIds} distinct), not ${records} (log: ${logFile})`,
        )
    }
    return result
  } finally {
    child.kill('SIGKILL')
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r))
    rmSync(dir, { recursive: true, force: true })
  }
}

/** SIGTERM, so that Connect stops its tasks (and they finish their files); SIGKILL after 30 s. */
async function stopGracefully(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  await exited
  clearTimeout(timer)
}

/** How kdp runs in a mode: node processes, archivers per node, compression. */
interface KdpShape {
  readonly nodes: number
  readonly instances: number
  readonly compression: 'gzip' | 'none'
  /** Default jsonl (every value checked to be JSON); `lines` writes them as Connect's StringConverter does. */
  readonly format?: 'jsonl' | 'lines'
}

/** kdp node processes (the benchmark worker) with `shape.instances` archivers each: records archived over time. */
async function kdp(
  brokers: readonly string[],
  topic: string,
  shape: KdpShape,
  { records, maxRecords, nodeArgs }: Pick<Options, 'records' | 'maxRecords' | 'nodeArgs'>,
  logFile: string,
  profileFile?: string,
) {
  const sinkDir = mkdtempSync(join(tmpdir(), 'kdp-bench-peers-'))
  const name = `kdp-peers-${Date.now()}`
  const workers = Array.from({ length: shape.nodes }, (_, i) =>
    startWorker(
      {
        mode: 'kdp',
        brokers,
        topic,
        name,
        // Each node alone would stop at the whole topic: of several, none does; the sum decides.
        expected: records,
        sinkDir,
        rotation: { maxBytes: 1024 * 1024 * 1024, maxRecords, maxAgeMs: null, idleMs: 1000 },
        compression: shape.compression,
        ...(shape.format !== undefined && { format: shape.format }),
        instances: shape.instances,
        maxBytesInFlight: 256 * 1024 * 1024,
        // Progress every 20 ms; RSS comes from /proc (sampleRss).
        memoryEveryMs: 20,
        countersOnly: true,
        ...(profileFile !== undefined && i === 0 && { profileFile }),
      },
      logFile,
      nodeArgs,
    ),
  )
  try {
    await Promise.all(workers.map((w) => w.ready))
    const rss = workers.map((w) => sampleRss(w.pid, 100))
    for (const w of workers) w.go()
    const done = workers.length === 1 ? await workers[0]?.done : undefined
    if (done === undefined) await allArchived(workers, records)
    const peakRss = rss.map((r) => r.stop().hwm ?? 0).reduce((a, b) => a + b, 0)
    for (const w of workers) w.kill()
    return {
      bytesPerSec: windowRate(archivedSeries(workers), records),
      peakRss,
      ...(done !== undefined && { cpuSeconds: done.cpuSeconds, files: done.filesWritten }),
    }
  } finally {
    for (const w of workers) w.kill()
    rmSync(sinkDir, { recursive: true, force: true })
  }
}

/** Records archived by all the nodes together over time (each sample's time is since its node's `go`). */
function archivedSeries(workers: readonly Worker[]): Array<{ t: number; n: number }> {
  const samples = workers.flatMap((w, node) => w.samples.map((s) => ({ node, t: s.t, n: s.archived ?? 0 })))
  samples.sort((a, b) => a.t - b.t)
  const latest = new Array<number>(workers.length).fill(0)
  const series = [{ t: 0, n: 0 }]
  for (const s of samples) {
    latest[s.node] = s.n
    series.push({ t: s.t, n: latest.reduce((a, b) => a + b, 0) })
  }
  return series
}

/**
 * Resolves once the nodes together archived `records`; rejects if one fails first, or after 300 s.
 * A node that archived the whole topic alone (the other joined after it was done) reports `done`
 * and exits: its count is then the one in `done`, since its last sample may be older. Polls on a
 * timer, so that a settled `done` never turns the wait into a loop that starves the samples.
 */
async function allArchived(workers: readonly Worker[], records: number): Promise<void> {
  let failure: unknown
  const finished = new Map<Worker, number>()
  for (const w of workers)
    w.done.then(
      (done) => finished.set(w, done.records),
      // Killed at the end, the nodes reject `done`: only a rejection before that is a failure.
      (error: unknown) => {
        failure ??= error
      },
    )
  const started = performance.now()
  for (;;) {
    if (failure !== undefined) throw failure
    const n = workers.reduce((sum, w) => sum + (finished.get(w) ?? w.samples.at(-1)?.archived ?? 0), 0)
    if (n >= records) return
    if (performance.now() - started > 300_000)
      throw new Error(`the nodes archived ${n} of ${records} in 300 s`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const others = otherBenchmarks()
  if (others.length > 0) log(`warning: other benchmarks are running: ${others.join('; ')}`)
  execFileSync('bash', [join(repoRoot, 'bench', 'peers', 'install.sh')], { stdio: 'inherit' })
  compileWorker()
  const logDir = mkdtempSync(join(tmpdir(), 'kdp-bench-peers-logs-'))
  mkdirSync(resultsDir, { recursive: true })
  const { cluster, kafka, admin, shutdown } = await startBroker()
  const brokers = cluster.brokers.join(',')
  const runs: Run[] = []
  let profile: ProfileSummary | undefined
  const loadAtStart = load()
  try {
    const topic = `peers-${Date.now()}`
    await admin.createTopics({ topics: [{ topic, numPartitions: options.partitions }], waitForLeaders: true })
    log(`producing ${options.records.toLocaleString('en')} records of ${recordBytes} bytes`)
    await produceTweets(kafka, topic, options.partitions, options.records)
    const run = (shape: KdpShape, profileFile?: string) =>
      kdp(cluster.brokers, topic, shape, options, join(logDir, 'kdp.log'), profileFile)
    const kdpShapes = new Map<string, KdpShape>([
      ['kdp-1-none', { nodes: 1, instances: 1, compression: 'none' }],
      ['kdp-1-gzip', { nodes: 1, instances: 1, compression: 'gzip' }],
      ['kdp-1-lines-none', { nodes: 1, instances: 1, compression: 'none', format: 'lines' }],
      ['kdp-1-lines-gzip', { nodes: 1, instances: 1, compression: 'gzip', format: 'lines' }],
      ['kdp-2-none', { nodes: 1, instances: 2, compression: 'none' }],
      ['kdp-2-gzip', { nodes: 1, instances: 2, compression: 'gzip' }],
      ['kdp-2-lines-none', { nodes: 1, instances: 2, compression: 'none', format: 'lines' }],
      ['kdp-2-lines-gzip', { nodes: 1, instances: 2, compression: 'gzip', format: 'lines' }],
      ['kdp-2nodes-none', { nodes: 2, instances: 1, compression: 'none' }],
      ['kdp-2nodes-gzip', { nodes: 2, instances: 1, compression: 'gzip' }],
    ])
    const kdpModes = (prefix: string) =>
      [...kdpShapes]
        .filter(([mode]) => mode.startsWith(prefix))
        .map(([mode, shape]): [string, () => Promise<Measured>] => [mode, () => run(shape)])
    const connectMode =
      (tasks: number, compression: 'gzip' | 'none'): (() => Promise<Measured>) =>
      () =>
        connect(brokers, topic, options.records, tasks, compression, join(logDir, `connect-${tasks}.log`))
    // In each round the modes run in this order: each peer just before the kdp modes it is paired with.
    const modes: Array<[string, () => Promise<Measured>]> = [
      ['jvm-consumer', () => consumerPerformance(brokers, topic, options.records, join(logDir, 'perf.log'))],
      ['connect-1', connectMode(1, 'none')],
      ['connect-1-gzip', connectMode(1, 'gzip')],
      ...kdpModes('kdp-1-'),
      ['connect-2', connectMode(2, 'none')],
      ['connect-2-gzip', connectMode(2, 'gzip')],
      ...kdpModes('kdp-2'),
    ]
    const profiled = options.profile === undefined ? undefined : kdpShapes.get(options.profile)
    if (options.profile !== undefined && profiled === undefined)
      throw new Error(`--profile needs a kdp mode: ${[...kdpShapes.keys()].join(', ')}`)
    const unknown = options.only?.filter((m) => !modes.some(([mode]) => mode === m)) ?? []
    if (unknown.length > 0)
      throw new Error(`unknown mode ${unknown.join(', ')}; the modes: ${modes.map(([m]) => m).join(', ')}`)
    for (let rep = 1; rep <= options.reps; rep++) {
      for (const [mode, run] of modes) {
        if (options.only && !options.only.includes(mode)) continue
        const result = await run()
        runs.push({ mode, rep, ...result, load: load() })
        log(
          `rep ${rep} ${mode}: ${round(result.bytesPerSec / 1e6, 1)} MB/s, peak RSS ${round((result.peakRss ?? 0) / 2 ** 20, 1)} MiB` +
            (result.cpuSeconds !== undefined
              ? `, CPU ${round(result.cpuSeconds, 2)} s, ${result.files} files`
              : '') +
            ` (load ${load().join(' ')})`,
        )
      }
    }
    if (profiled !== undefined) {
      const profileFile = join(logDir, `${options.profile}.cpuprofile`)
      const result = await run(profiled, profileFile)
      log(`profiled ${options.profile}: ${round(result.bytesPerSec / 1e6, 1)} MB/s`)
      profile = summarizeProfile(profileFile)
      process.stdout.write(`${JSON.stringify(profile, null, 1)}\n`)
    }
  } finally {
    await shutdown()
    if (!options.keepLogs) rmSync(logDir, { recursive: true, force: true })
    else log(`logs kept in ${logDir}`)
  }
  const summary = Object.fromEntries(
    [...new Set(runs.map((r) => r.mode))].map((mode) => {
      const of = runs.filter((r) => r.mode === mode)
      return [
        mode,
        {
          mbPerSec: summarize(of.map((r) => r.bytesPerSec / 1e6)),
          peakRssMiB: summarize(of.map((r) => (r.peakRss ?? 0) / 2 ** 20)),
        },
      ]
    }),
  )
  const file = join(resultsDir, 'archiver-peers.json')
  writeFileSync(
    file,
    `${JSON.stringify({ options, machine: machine(), code: codeVersion(), loadAtStart, loadAtEnd: load(), summary, runs, profile }, null, 2)}\n`,
  )
  log(`results in ${file}`)
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
}

await main()
