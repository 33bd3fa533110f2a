// Coordination benchmarks: handover after SIGTERM, failover after SIGKILL, convergence when a 10th
// node joins 1,000 processes, and the idle cost of a node. Each one is measured against a plain
// kafkajs consumer group in the same run, against one real Kafka broker (KRaft) on loopback; every
// node is its own OS process running compiled JS.
//
//   npm run bench:coordination -- [handover|failover|convergence|idle|all]... [--reps N] [--keep-logs]
//
// Raw results go to bench/results/coordination-<benchmark>.json; docs/benchmarks.md quotes them.
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { type Admin, Kafka, logLevel } from 'kafkajs'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { cacheDir, repoRoot } from '../../services/process.js'
import { Fleet, waitUntil } from './fleet.js'
import { outageBenchmark } from './outage.js'
import { cpuSeconds, memoryMiB } from './procfs.js'
import type { KafkajsMemberConfig, KdpNodeConfig, Timings } from './protocol.js'
import { ratio, type Summary, summarize } from './stats.js'

const benchmarks = ['handover', 'failover', 'convergence', 'idle', 'outage'] as const
type Benchmark = (typeof benchmarks)[number]

/** The kdp settings of every benchmark (derived: lease 4,500 ms, handover delay 1,500 ms). */
const timings: Timings = {
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  maxStopMs: 1000,
  leaseMarginMs: 500,
}
/** The baseline consumers use the same group timings as kdp's own consumer (whose fetch wait is the heartbeat interval). */
const baselineTimings = {
  sessionTimeoutMs: timings.sessionTimeoutMs,
  rebalanceTimeoutMs: timings.sessionTimeoutMs,
  heartbeatIntervalMs: timings.heartbeatIntervalMs,
  maxWaitTimeInMs: timings.heartbeatIntervalMs,
}

interface Context {
  readonly cluster: KafkaCluster
  readonly admin: Admin
  readonly runId: string
  readonly logDir: string
  readonly reps: number
}

const fleets = new Set<Fleet>()

function newFleet(ctx: Context, name: string): Fleet {
  const dir = join(ctx.logDir, name)
  mkdirSync(dir, { recursive: true })
  const fleet = new Fleet(dir)
  fleets.add(fleet)
  return fleet
}

async function closeFleet(fleet: Fleet): Promise<void> {
  await fleet.stopAll()
  fleets.delete(fleet)
}

/** A fresh topic and group name for one measurement. */
async function fresh(
  ctx: Context,
  name: string,
  partitions: number,
): Promise<{ topic: string; group: string }> {
  const topic = `kdp-bench-${ctx.runId}-${name}`
  await ctx.admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  })
  return { topic, group: `bench-${ctx.runId}-${name}` }
}

function kdpConfig(
  ctx: Context,
  nodeId: string,
  names: { topic: string; group: string },
  partitions: number,
  processes: number,
): KdpNodeConfig {
  return { kind: 'kdp', nodeId, brokers: ctx.cluster.brokers, ...names, partitions, processes, ...timings }
}

function kafkajsConfig(
  ctx: Context,
  nodeId: string,
  names: { topic: string; group: string },
  overrides: Partial<KafkajsMemberConfig> = baselineTimings,
): KafkajsMemberConfig {
  return { kind: 'kafkajs', nodeId, brokers: ctx.cluster.brokers, ...names, ...overrides }
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${message}\n`)
}

/** Resolves with `promise`, or rejects naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const load = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100)

// --- 1 and 2: handover after SIGTERM, failover after SIGKILL --------------------------------------

interface MoveSample {
  readonly ms: number
  readonly victim: string
  readonly moved: number
  /** kdp: how long the signalled node took to exit. */
  readonly victimExitMs?: number
  readonly overlaps?: number
  readonly loadAvg1: number
}

async function kdpMove(ctx: Context, signal: 'SIGTERM' | 'SIGKILL', rep: number): Promise<MoveSample> {
  const name = `${signal === 'SIGTERM' ? 'handover' : 'failover'}-kdp-${rep}`
  const fleet = newFleet(ctx, name)
  const names = await fresh(ctx, name, 30)
  for (let i = 1; i <= 3; i++) fleet.spawn(kdpConfig(ctx, `kdp${i}`, names, 30, 30))
  await waitUntil(() => fleet.kdpStable(30, 30, 2000), 120_000, '3 kdp nodes sharing 30 processes')
  const victim = fleet.nodes.get(`kdp${(rep % 3) + 1}`)!
  const moved = fleet.processesOn(victim.id)
  const loadAvg1 = loadavg()[0]!
  const t0 = fleet.signal(victim, signal)
  let end = 0
  await waitUntil(
    () => {
      let latest = 0
      for (const k of moved) {
        const elsewhere = [...(fleet.running.get(k) ?? [])].filter(([node]) => node !== victim.id)
        if (elsewhere.length === 0) return false
        latest = Math.max(latest, elsewhere[0]![1])
      }
      end = latest
      return true
    },
    60_000,
    `the ${moved.length} processes of ${victim.id} to run elsewhere`,
  )
  await within(victim.exited, 30_000, `${victim.id} to exit after ${signal}`)
  await waitUntil(() => fleet.kdpStable(30, 30, 2000), 60_000, 'the 2 survivors to settle')
  const overlaps = fleet.overlaps()
  for (const o of overlaps) log(`OVERLAP ${o}`)
  await closeFleet(fleet)
  return {
    ms: end - t0,
    victim: victim.id,
    moved: moved.length,
    victimExitMs: (victim.exitedAt ?? Number.NaN) - t0,
    overlaps: overlaps.length,
    loadAvg1,
  }
}

async function kafkajsMove(ctx: Context, signal: 'SIGTERM' | 'SIGKILL', rep: number): Promise<MoveSample> {
  const name = `${signal === 'SIGTERM' ? 'handover' : 'failover'}-kafkajs-${rep}`
  const fleet = newFleet(ctx, name)
  const names = await fresh(ctx, name, 30)
  for (let i = 1; i <= 3; i++) fleet.spawn(kafkajsConfig(ctx, `kafkajs${i}`, names))
  await waitUntil(() => fleet.kafkajsStable(30, 2000), 120_000, '3 kafkajs consumers sharing 30 partitions')
  const victim = fleet.nodes.get(`kafkajs${(rep % 3) + 1}`)!
  const moved = fleet.joins.get(victim.id)?.partitions.length ?? 0
  const loadAvg1 = loadavg()[0]!
  const t0 = fleet.signal(victim, signal)
  await waitUntil(
    () => fleet.kafkajsCovered(30, t0),
    60_000,
    `the partitions of ${victim.id} to be reassigned`,
  )
  const ms = fleet.latestJoinOfAlive() - t0
  await closeFleet(fleet)
  return { ms, victim: victim.id, moved, loadAvg1 }
}

interface MoveResult {
  readonly benchmark: 'handover' | 'failover'
  readonly signal: 'SIGTERM' | 'SIGKILL'
  readonly kdp: Summary
  readonly kafkajs: Summary
  readonly ratio: number
  readonly kdpSamples: readonly MoveSample[]
  readonly kafkajsSamples: readonly MoveSample[]
}

async function moveBenchmark(ctx: Context, benchmark: 'handover' | 'failover'): Promise<MoveResult> {
  const signal = benchmark === 'handover' ? 'SIGTERM' : 'SIGKILL'
  const kdpSamples: MoveSample[] = []
  const kafkajsSamples: MoveSample[] = []
  // Interleaved, so that a noisy moment of the machine hits both.
  for (let rep = 0; rep < ctx.reps; rep++) {
    const kdp = await kdpMove(ctx, signal, rep)
    log(`${benchmark} ${rep + 1}/${ctx.reps} kdp: ${kdp.ms} ms (${kdp.moved} processes of ${kdp.victim})`)
    kdpSamples.push(kdp)
    const base = await kafkajsMove(ctx, signal, rep)
    log(
      `${benchmark} ${rep + 1}/${ctx.reps} kafkajs: ${base.ms} ms (${base.moved} partitions of ${base.victim})`,
    )
    kafkajsSamples.push(base)
  }
  const kdp = summarize(kdpSamples.map((s) => s.ms))
  const kafkajs = summarize(kafkajsSamples.map((s) => s.ms))
  return {
    benchmark,
    signal,
    kdp,
    kafkajs,
    ratio: ratio(kdp.median, kafkajs.median),
    kdpSamples,
    kafkajsSamples,
  }
}

// --- 3: convergence when a 10th node joins 1,000 processes on 100 partitions -------------------

const convergence = { processes: 1000, partitions: 100, nodes: 10, quietMs: 3000 }

interface ConvergenceSample {
  /** From the spawn of the 10th node to the last change before placement was stable. */
  readonly ms: number
  /** From the first of the 9 spawns to their stable placement. */
  readonly initialMs: number
  /** From the spawn of the 10th node to its modules being loaded (Node startup, under contention). */
  readonly loadedMs: number
  /** From the spawn of the 10th node to its first join (kdp: `start()` resolved). */
  readonly joinedMs: number
  /** kdp: from the spawn of the 10th node to the first process it started. */
  readonly firstStartMs?: number
  /** kdp: process starts after the 10th node's spawn (100 if only its share moved). */
  readonly starts?: number
  readonly overlaps?: number
  readonly loadAvg1: number
}

async function kdpConvergence(ctx: Context, rep: number): Promise<ConvergenceSample> {
  const { processes, partitions, nodes, quietMs } = convergence
  const fleet = newFleet(ctx, `convergence-kdp-${rep}`)
  const names = await fresh(ctx, `convergence-kdp-${rep}`, partitions)
  const first = Date.now()
  for (let i = 1; i < nodes; i++) fleet.spawn(kdpConfig(ctx, `kdp${i}`, names, partitions, processes))
  await waitUntil(() => fleet.kdpStable(processes, partitions, quietMs), 240_000, `${nodes - 1} kdp nodes`)
  const initialMs = fleet.lastChangeAt - first
  const loadAvg1 = loadavg()[0]!
  const tenth = fleet.spawn(kdpConfig(ctx, `kdp${nodes}`, names, partitions, processes))
  const t0 = tenth.spawnedAt
  await waitUntil(
    () => tenth.readyAt !== undefined && fleet.kdpStable(processes, partitions, quietMs),
    180_000,
    `placement over ${nodes} kdp nodes`,
  )
  const starts = fleet.intervals.filter((i) => i.start >= t0).length
  const firstStart = Math.min(...fleet.intervals.filter((i) => i.node === tenth.id).map((i) => i.start))
  const overlaps = fleet.overlaps()
  for (const o of overlaps) log(`OVERLAP ${o}`)
  await closeFleet(fleet)
  return {
    ms: fleet.lastChangeAt - t0,
    initialMs,
    loadedMs: (tenth.loadedAt ?? Number.NaN) - t0,
    joinedMs: (tenth.readyAt ?? Number.NaN) - t0,
    firstStartMs: firstStart - t0,
    starts,
    overlaps: overlaps.length,
    loadAvg1,
  }
}

async function kafkajsConvergence(ctx: Context, rep: number): Promise<ConvergenceSample> {
  const { partitions, nodes, quietMs } = convergence
  const fleet = newFleet(ctx, `convergence-kafkajs-${rep}`)
  const names = await fresh(ctx, `convergence-kafkajs-${rep}`, partitions)
  const first = Date.now()
  for (let i = 1; i < nodes; i++) fleet.spawn(kafkajsConfig(ctx, `kafkajs${i}`, names))
  await waitUntil(() => fleet.kafkajsStable(partitions, quietMs), 240_000, `${nodes - 1} kafkajs consumers`)
  const initialMs = fleet.lastChangeAt - first
  const loadAvg1 = loadavg()[0]!
  const tenth = fleet.spawn(kafkajsConfig(ctx, `kafkajs${nodes}`, names))
  const t0 = tenth.spawnedAt
  await waitUntil(() => fleet.kafkajsStable(partitions, quietMs, t0), 180_000, `${nodes} kafkajs consumers`)
  const ms = fleet.latestJoinOfAlive() - t0
  await closeFleet(fleet)
  return {
    ms,
    initialMs,
    loadedMs: (tenth.loadedAt ?? Number.NaN) - t0,
    joinedMs: (tenth.readyAt ?? Number.NaN) - t0,
    loadAvg1,
  }
}

interface ConvergenceResult {
  readonly benchmark: 'convergence'
  readonly setup: typeof convergence
  readonly kdp: Summary
  readonly kafkajs: Summary
  readonly ratio: number
  readonly kdpSamples: readonly ConvergenceSample[]
  readonly kafkajsSamples: readonly ConvergenceSample[]
}

async function convergenceBenchmark(ctx: Context): Promise<ConvergenceResult> {
  const kdpSamples: ConvergenceSample[] = []
  const kafkajsSamples: ConvergenceSample[] = []
  const reps = Math.min(ctx.reps, 3)
  for (let rep = 0; rep < reps; rep++) {
    const kdp = await kdpConvergence(ctx, rep)
    log(
      `convergence ${rep + 1}/${reps} kdp: ${kdp.ms} ms (loaded after ${kdp.loadedMs} ms, joined after ${kdp.joinedMs} ms, ${kdp.starts} starts)`,
    )
    kdpSamples.push(kdp)
    const base = await kafkajsConvergence(ctx, rep)
    log(`convergence ${rep + 1}/${reps} kafkajs: ${base.ms} ms`)
    kafkajsSamples.push(base)
  }
  const kdp = summarize(kdpSamples.map((s) => s.ms))
  const kafkajs = summarize(kafkajsSamples.map((s) => s.ms))
  return {
    benchmark: 'convergence',
    setup: convergence,
    kdp,
    kafkajs,
    ratio: ratio(kdp.median, kafkajs.median),
    kdpSamples,
    kafkajsSamples,
  }
}

// --- 4: the idle cost of a node -----------------------------------------------------------------

const idle = { processes: 20, partitions: 20, warmupMs: 60_000, windowMs: 30_000, slices: 3 }

interface IdleMeasurement {
  /** CPU time over the window, in % of one core. */
  readonly cpuPercent: number
  /** The same, per third of the window. */
  readonly cpuPercentSlices: readonly number[]
  /** Median of the RSS read at the start, every third and the end of the window. */
  readonly rssMiB: number
  readonly rssMiBSamples: readonly number[]
  /** VmHWM: the highest RSS since the node started (startup included). */
  readonly peakRssMiB: number
}

/** What the idle benchmark runs side by side, each in its own group on the same topic. */
const idleVariants = [
  { id: 'kdp', kind: 'kdp', kafkajsIdleFix: false },
  /** Same group timings as kdp (session 6 s, heartbeat 500 ms, fetch wait 500 ms). */
  { id: 'kafkajs', kind: 'kafkajs', kafkajsIdleFix: false, timings: baselineTimings },
  /** kafkajs defaults (session 30 s, heartbeat 3 s, fetch wait 5 s), for reference. */
  { id: 'kafkajs-defaults', kind: 'kafkajs', kafkajsIdleFix: false, timings: {} },
  /** The same two with the fix of kafkajs's idle timer loop preloaded (kafkajsIdleFix.ts). */
  { id: 'kdp-kafkajs-fix', kind: 'kdp', kafkajsIdleFix: true },
  { id: 'kafkajs-kafkajs-fix', kind: 'kafkajs', kafkajsIdleFix: true, timings: baselineTimings },
] as const

type IdleVariant = (typeof idleVariants)[number]['id']

interface IdleResult {
  readonly benchmark: 'idle'
  readonly setup: typeof idle
  readonly measurements: Readonly<Record<IdleVariant, IdleMeasurement>>
  /** kdp against kafkajs with the same timings, both on kafkajs 2.2.4 as published. */
  readonly cpuRatio: number
  readonly rssRatio: number
  /** The same with the kafkajs idle fix preloaded into both. */
  readonly cpuRatioWithFix: number
  readonly rssRatioWithFix: number
}

async function idleBenchmark(ctx: Context): Promise<IdleResult> {
  const names = await fresh(ctx, 'idle', idle.partitions)
  const watched = idleVariants.map((variant) => {
    const fleet = newFleet(ctx, `idle-${variant.id}`)
    const group = { ...names, group: `${names.group}-${variant.id}` }
    const config =
      variant.kind === 'kdp'
        ? kdpConfig(ctx, variant.id, group, idle.partitions, idle.processes)
        : kafkajsConfig(ctx, variant.id, group, variant.timings)
    const node = fleet.spawn(config, { kafkajsIdleFix: variant.kafkajsIdleFix })
    return { variant, fleet, node }
  })
  await waitUntil(
    () =>
      watched.every(({ variant, fleet, node }) =>
        variant.kind === 'kdp'
          ? fleet.kdpStable(idle.processes, idle.partitions, 1000)
          : node.readyAt !== undefined,
      ),
    120_000,
    'the idle nodes to run their processes or join their group',
  )
  log(`idle: ${idle.warmupMs / 1000} s warm-up, then ${idle.windowMs / 1000} s of measurement`)
  await new Promise((r) => setTimeout(r, idle.warmupMs))
  const sliceMs = idle.windowMs / idle.slices
  const marks: { at: number; cpu: number[]; rss: number[]; peak: number[] }[] = []
  const mark = (): void => {
    const memory = watched.map(({ node }) => memoryMiB(node.pid))
    marks.push({
      at: performance.now(),
      cpu: watched.map(({ node }) => cpuSeconds(node.pid)),
      rss: memory.map((m) => m.rss),
      peak: memory.map((m) => m.peak),
    })
  }
  mark()
  for (let i = 0; i < idle.slices; i++) {
    await new Promise((r) => setTimeout(r, sliceMs))
    mark()
  }
  const percent = (index: number, from: number, to: number): number => {
    const a = marks[from]!
    const b = marks[to]!
    return Math.round(((b.cpu[index]! - a.cpu[index]!) / ((b.at - a.at) / 1000)) * 10_000) / 100
  }
  const oneDecimal = (n: number): number => Math.round(n * 10) / 10
  const measurements = Object.fromEntries(
    watched.map(({ variant }, index) => {
      const rss = summarize(marks.map((m) => m.rss[index]!))
      const measurement: IdleMeasurement = {
        cpuPercent: percent(index, 0, idle.slices),
        cpuPercentSlices: Array.from({ length: idle.slices }, (_, i) => percent(index, i, i + 1)),
        rssMiB: oneDecimal(rss.median),
        rssMiBSamples: rss.values.map(oneDecimal),
        peakRssMiB: oneDecimal(marks[marks.length - 1]!.peak[index]!),
      }
      return [variant.id, measurement]
    }),
  ) as Record<IdleVariant, IdleMeasurement>
  const exited = watched.filter(({ node }) => node.exitedAt !== undefined).map(({ node }) => node.id)
  for (const { fleet } of watched) await closeFleet(fleet)
  if (exited.length > 0) throw new Error(`idle nodes exited during the measurement: ${exited.join(', ')}`)
  const m = measurements
  return {
    benchmark: 'idle',
    setup: idle,
    measurements,
    cpuRatio: ratio(m.kdp.cpuPercent, m.kafkajs.cpuPercent),
    rssRatio: ratio(m.kdp.rssMiB, m.kafkajs.rssMiB),
    cpuRatioWithFix: ratio(m['kdp-kafkajs-fix'].cpuPercent, m['kafkajs-kafkajs-fix'].cpuPercent),
    rssRatioWithFix: ratio(m['kdp-kafkajs-fix'].rssMiB, m['kafkajs-kafkajs-fix'].rssMiB),
  }
}

// --- driver -------------------------------------------------------------------------------------

function machine(): Record<string, unknown> {
  const kafkaJar = readdirSync(join(cacheDir, 'kafka', 'libs')).find((f) =>
    /^kafka-server-[\d.]+\.jar$/.test(f),
  )
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kafka: kafkaJar?.replace(/^kafka-server-|\.jar$/g, ''),
    kafkajs: '2.2.4',
  }
}

/** Which code was measured: the commit, uncommitted files under src/, and a digest of src/. */
function codeVersion(): { commit: string; dirtyFiles: number; srcSha256: string } {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: repoRoot }).toString().trim()
  const files = git('ls-files', '--cached', '--others', '--exclude-standard', 'src')
    .split('\n')
    .filter(Boolean)
    .sort()
  const digest = createHash('sha256')
  for (const file of files) {
    if (!existsSync(join(repoRoot, file))) continue
    digest.update(file)
    digest.update(readFileSync(join(repoRoot, file)))
  }
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    dirtyFiles: git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length,
    srcSha256: digest.digest('hex'),
  }
}

function parseArgs(argv: readonly string[]): { selected: Benchmark[]; reps: number; keepLogs: boolean } {
  const selected = new Set<Benchmark>()
  let reps = 5
  let keepLogs = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--reps') reps = Number(argv[++i])
    else if (arg === '--keep-logs') keepLogs = true
    else if (arg === 'all') for (const b of benchmarks) selected.add(b)
    else if ((benchmarks as readonly string[]).includes(arg)) selected.add(arg as Benchmark)
    else
      throw new Error(`unknown argument '${arg}': use ${benchmarks.join(', ')}, all, --reps N, --keep-logs`)
  }
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps needs a positive integer')
  return { selected: selected.size > 0 ? [...selected] : [...benchmarks], reps, keepLogs }
}

async function main(): Promise<void> {
  const { selected, reps, keepLogs } = parseArgs(process.argv.slice(2))
  log('compiling the node scripts and src (bench/tsconfig.json → dist/bench)')
  try {
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc')
    execFileSync(process.execPath, [tsc, '-p', 'bench/tsconfig.json'], { cwd: repoRoot, stdio: 'inherit' })
  } catch {
    log('the node scripts or the src they import do not compile (see above); nothing was measured')
    process.exit(1)
  }
  const code = codeVersion()
  const dirty = code.dirtyFiles > 0 ? ` plus ${code.dirtyFiles} uncommitted file(s)` : ''
  log(`measuring src at ${code.commit}${dirty} (src sha256 ${code.srcSha256.slice(0, 12)})`)
  const logDir = mkdtempSync(join(tmpdir(), 'kdp-bench-'))
  const resultsDir = join(repoRoot, 'bench', 'results')
  mkdirSync(resultsDir, { recursive: true })
  log('starting a Kafka broker')
  const cluster = await startKafka({ brokers: 1 })
  const admin = new Kafka({ brokers: [...cluster.brokers], logLevel: logLevel.WARN }).admin()
  let failed = false
  const shutdown = async (): Promise<void> => {
    await Promise.all([...fleets].map((f) => f.stopAll()))
    await admin.disconnect().catch(() => {})
    await cluster.stop()
  }
  process.once('SIGINT', () => {
    log('interrupted: stopping every node and the broker')
    void shutdown().finally(() => process.exit(130))
  })
  try {
    await admin.connect()
    const ctx: Context = { cluster, admin, runId: randomBytes(3).toString('hex'), logDir, reps }
    for (const benchmark of selected) {
      const startedAt = new Date().toISOString()
      const loadBefore = load()
      log(`${benchmark}: start (load average ${loadBefore.join(' ')})`)
      const result =
        benchmark === 'handover' || benchmark === 'failover'
          ? await moveBenchmark(ctx, benchmark)
          : benchmark === 'convergence'
            ? await convergenceBenchmark(ctx)
            : benchmark === 'outage'
              ? await outageBenchmark(
                  {
                    newFleet: (name) => newFleet(ctx, name),
                    closeFleet,
                    fresh: (name, partitions) => fresh(ctx, name, partitions),
                    kdpConfig: (nodeId, names) => kdpConfig(ctx, nodeId, names, 30, 30),
                    kafkajsConfig: (nodeId, names) => kafkajsConfig(ctx, nodeId, names),
                    waitUntil,
                    sessionTimeoutMs: timings.sessionTimeoutMs,
                    log,
                  },
                  Math.min(ctx.reps, 3),
                )
              : await idleBenchmark(ctx)
      const record = {
        ...result,
        startedAt,
        settings: { ...timings, rebalanceTimeoutMs: timings.sessionTimeoutMs, brokers: 1 },
        baselineSettings: baselineTimings,
        machine: machine(),
        code,
        loadAverageBefore: loadBefore,
        loadAverageAfter: load(),
      }
      writeFileSync(
        join(resultsDir, `coordination-${benchmark}.json`),
        `${JSON.stringify(record, null, 2)}\n`,
      )
      log(`${benchmark}: done`)
      process.stdout.write(`${JSON.stringify({ benchmark, ...summaryOf(result) })}\n`)
    }
  } catch (error) {
    failed = true
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    log(`node logs kept in ${logDir}`)
  } finally {
    await shutdown()
    if (!failed && !keepLogs) rmSync(logDir, { recursive: true, force: true })
    else log(`node logs in ${logDir}`)
  }
  process.exit(failed ? 1 : 0)
}

function summaryOf(
  result: MoveResult | ConvergenceResult | IdleResult | Awaited<ReturnType<typeof outageBenchmark>>,
): Record<string, unknown> {
  if (result.benchmark === 'outage') return { summary: result.summary }
  if (result.benchmark === 'idle') {
    const { benchmark: _b, setup: _s, ...rest } = result
    return rest
  }
  return {
    kdpMedianMs: result.kdp.median,
    kdp: result.kdp,
    kafkajsMedianMs: result.kafkajs.median,
    kafkajs: result.kafkajs,
    ratio: result.ratio,
  }
}

await main()
