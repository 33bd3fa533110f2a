// Shared by the archiver benchmark controllers: compiling the worker, the broker, the data, the
// worker processes, /proc sampling, reading the archive back, statistics and the machine.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { gunzipSync } from 'node:zlib'
import { type Admin, Kafka, logLevel } from 'kafkajs'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { cacheDir, repoRoot } from '../../services/process.js'
import { fakeTweets } from '../../src/loadgen/tweets.js'
import type { DoneEvent, MemorySample, WorkerConfig, WorkerEvent } from './protocol.js'

export const MiB = 1024 * 1024
// The producer sets every record's partition itself.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
export const resultsDir = join(repoRoot, 'bench', 'results')
const workerJs = join(repoRoot, 'dist', 'bench-archiver', 'bench', 'archiver', 'worker.js')

export function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

/** Compiles the worker and the src it imports (bench/archiver/tsconfig.json → dist/bench-archiver). */
export function compileWorker(): void {
  log('compiling the worker and src (bench/archiver/tsconfig.json → dist/bench-archiver)')
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'bench/archiver/tsconfig.json'], {
    cwd: repoRoot,
    stdio: 'inherit',
  })
}

/** A broker, an admin client, and a shutdown that stops both (also on Ctrl-C). */
export async function startBroker(): Promise<{
  cluster: KafkaCluster
  kafka: Kafka
  admin: Admin
  shutdown: () => Promise<void>
}> {
  log('starting a Kafka broker (KRaft, loopback)')
  const cluster = await startKafka({ brokers: 1 })
  const kafka = new Kafka({
    brokers: [...cluster.brokers],
    clientId: 'bench-controller',
    logLevel: logLevel.WARN,
  })
  const admin = kafka.admin()
  await admin.connect()
  let stopped = false
  const shutdown = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    for (const child of children) child.kill('SIGKILL')
    await admin.disconnect().catch(() => {})
    await cluster.stop()
  }
  process.once('SIGINT', () => {
    log('interrupted: stopping the workers and the broker')
    void shutdown().finally(() => process.exit(130))
  })
  return { cluster, kafka, admin, shutdown }
}

export const recordBytes = 1024
/**
 * Record timestamps start at the beginning of the previous UTC hour and grow by 1 ms per record, so
 * that up to 3.6 million records fall in one hour (one output path) and none is in the future (the
 * broker refuses timestamps more than `log.message.timestamp.after.max.ms`, 1 h, ahead).
 */
export const baseTimestamp = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000

/**
 * Produces `count` fake tweets of exactly `recordBytes` bytes (JSON, `timestamp_ms` and `created_at`
 * fields) to `topic`, record i to partition i mod `partitions`, Kafka timestamp = the tweet's time.
 * Returns the seconds it took.
 */
export async function produceTweets(
  kafka: Kafka,
  topic: string,
  partitions: number,
  count: number,
): Promise<number> {
  let clock = baseTimestamp
  const tweets = fakeTweets({ seed: 42, valueBytes: recordBytes, keys: 10_000, now: () => clock++ })
  // Idempotent: a retried send (say, NOT_LEADER just after the topic was created) adds no duplicate.
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const started = performance.now()
  const batch = 4000
  let lastReport = started
  for (let sent = 0; sent < count; sent += batch) {
    const messages = []
    for (let i = sent; i < Math.min(count, sent + batch); i++) {
      const tweet = tweets.next().value
      if (tweet.value.length !== recordBytes) throw new Error(`tweet of ${tweet.value.length} bytes`)
      messages.push({
        partition: i % partitions,
        key: tweet.key,
        value: tweet.value,
        timestamp: String(tweet.timestamp),
      })
    }
    await producer.send({ topic, messages })
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now()
      log(`  produced ${sent.toLocaleString('en')} / ${count.toLocaleString('en')}`)
    }
  }
  await producer.disconnect()
  return (performance.now() - started) / 1000
}

/** Sum of the high watermarks of a topic: the number of records in it. */
export async function recordsInTopic(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0)
}

const children = new Set<ChildProcess>()

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: Error): void } {
  let resolve: (value: T) => void = () => {}
  let reject: (error: Error) => void = () => {}
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  // Settled at most once; a rejection nobody awaits (say, of `ready` after `done`) is not an error.
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/** A worker process (compiled JS, plain node): its pid, a wait for its events, `go`, and its end. */
export interface Worker {
  readonly pid: number
  readonly ready: Promise<void>
  readonly done: Promise<DoneEvent>
  readonly exited: Promise<number | null>
  readonly samples: MemorySample[]
  go(): void
  kill(): void
}

export function startWorker(config: WorkerConfig, logFile: string, nodeArgs: readonly string[] = []): Worker {
  const child = spawn(process.execPath, [...nodeArgs, workerJs, JSON.stringify(config)], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.add(child)
  const logStream = createWriteStream(logFile, { flags: 'a' })
  child.stderr?.pipe(logStream)
  const samples: MemorySample[] = []
  const ready = deferred<void>()
  const done = deferred<DoneEvent>()
  const fail = (error: Error): void => {
    ready.reject(error)
    done.reject(error)
  }
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: WorkerEvent
    try {
      event = JSON.parse(line) as WorkerEvent
    } catch {
      logStream.write(`stdout: ${line}\n`)
      return
    }
    if (event.type === 'ready') ready.resolve()
    else if (event.type === 'done') done.resolve(event)
    else if (event.type === 'memory') samples.push(event)
    else fail(new Error(`worker failed: ${event.message} (log: ${logFile})`))
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child)
      logStream.end()
      fail(new Error(`worker exited with code ${code} before it was done (log: ${logFile})`))
      resolve(code)
    }),
  )
  if (child.pid === undefined) throw new Error('could not spawn the worker')
  return {
    pid: child.pid,
    ready: ready.promise,
    done: done.promise,
    exited,
    samples,
    go: () => child.stdin?.write('go\n'),
    kill: () => child.kill('SIGKILL'),
  }
}

/** Resident set size now and its peak so far (VmHWM), in bytes, from /proc/<pid>/status. */
export function procMemory(pid: number): { rss: number; hwm: number } | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
  const rss = kib('VmRSS') * 1024
  const hwm = kib('VmHWM') * 1024
  // A process that has exited but is not reaped yet has a status without memory lines.
  if (Number.isNaN(rss) || Number.isNaN(hwm)) return undefined
  return { rss, hwm }
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleRss(
  pid: number,
  everyMs: number,
): { readonly samples: Array<{ t: number; rss: number }>; stop(): { hwm: number | undefined } } {
  const samples: Array<{ t: number; rss: number }> = []
  const started = performance.now()
  let hwm: number | undefined
  const take = (): void => {
    const m = procMemory(pid)
    if (!m) return
    samples.push({ t: Math.round(performance.now() - started), rss: m.rss })
    hwm = m.hwm
  }
  take()
  const timer = setInterval(take, everyMs)
  return {
    samples,
    stop: () => {
      take()
      clearInterval(timer)
      return { hwm }
    },
  }
}

/** Every line of every `.jsonl(.gz)` file under `dir`: how many, how many distinct tweet ids, the files. */
export function readArchive(
  dir: string,
  compression: 'gzip' | 'none' = 'gzip',
): {
  files: number
  lines: number
  distinctIds: number
  largestFileBytes: number
  largestPlainBytes: number
} {
  const ids = new Set<string>()
  let files = 0
  let lines = 0
  let largestFileBytes = 0
  let largestPlainBytes = 0
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = join(at, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile() && entry.name.endsWith(compression === 'gzip' ? '.jsonl.gz' : '.jsonl')) {
        files++
        const body = readFileSync(full)
        const plain = compression === 'gzip' ? gunzipSync(body) : body
        largestFileBytes = Math.max(largestFileBytes, body.length)
        largestPlainBytes = Math.max(largestPlainBytes, plain.length)
        for (const line of plain.toString('utf8').split('\n')) {
          if (line === '') continue
          lines++
          ids.add((JSON.parse(line) as { id: string }).id)
        }
      }
    }
  }
  if (existsSync(dir)) walk(dir)
  return { files, lines, distinctIds: ids.size, largestFileBytes, largestPlainBytes }
}

export interface Summary {
  readonly n: number
  readonly median: number
  readonly min: number
  readonly max: number
  readonly values: readonly number[]
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('no measurements to summarize')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { n: values.length, median, min: sorted[0]!, max: sorted[sorted.length - 1]!, values }
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function load(): number[] {
  return loadavg().map((l) => round(l, 2))
}

export function machine(): Record<string, unknown> {
  const libs = join(cacheDir, 'kafka', 'libs')
  const kafkaJar = existsSync(libs)
    ? readdirSync(libs).find((f) => /^kafka-server-\d/.test(f) || /^kafka_2\.\d+-\d/.test(f))
    : undefined
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    kafka: kafkaJar?.replace(/^kafka-server-|^kafka_[\d.]+-|\.jar$/g, ''),
    kafkajs: '2.2.4',
  }
}

/** Which code was measured: the commit, uncommitted files under src/, and a digest of src/. */
export function codeVersion(): { commit: string; dirtyFiles: number; srcSha256: string } {
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

/** Other benchmarks running on this machine (they would distort the numbers). */
export function otherBenchmarks(): string[] {
  const found: string[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
    } catch {
      continue
    }
    if (cmdline.includes('bench/coordination') || cmdline.includes('dist/bench/'))
      found.push(`${entry}: ${cmdline.slice(0, 120)}`)
  }
  return found
}
