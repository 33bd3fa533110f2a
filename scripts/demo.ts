// `npm run demo`: a local Kafka broker, three kdp-archiver nodes, fake tweets at 200 records/s,
// archived to ./archive. Ctrl-C stops everything: the load, then the nodes, then the broker.
// `npm run demo -- --autoscale`: the cluster scaling itself on an Auto Scaling group in moto
// (demoAutoscale.ts).
//
// It runs as two processes. The one started by npm (the launcher) starts the supervisor in its own
// process group and forwards Ctrl-C to it: a terminal sends SIGINT to its whole foreground group,
// and the broker and the nodes must not get it all at once — the nodes need the broker to hand
// their work over, so they stop first and the broker last.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ensureServicesInstalled } from '../services/install.js'
import { type KafkaCluster, startKafka } from '../services/kafka.js'
import { repoRoot, stopChild } from '../services/process.js'
import { formatBytes, formatCount, RateMeter, StatusLine } from '../src/cli/progress.js'
import { connectKafka } from '../src/kafka/index.js'
import { type Load, startLoad } from '../src/loadgen/load.js'
import { createLogger, silentLogger } from '../src/util/logging.js'
import { runAutoscaleDemo } from './demoAutoscale.js'

const supervisorVariable = 'KDP_DEMO_SUPERVISOR'
const topic = 'tweets'
const partitions = 6
const nodeCount = 3
const rate = 200
/** The demo's bearer token for writes to the HTTP API (loopback only). */
const token = 'kdp-demo'
const archiveDir = join(repoRoot, 'archive')

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

// ---- the launcher ----------------------------------------------------------------------------

function launch(): void {
  const supervisor = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [supervisorVariable]: '1' },
    },
  )
  const forward = (): void => {
    // First: a clean stop. Second: the supervisor kills what is left at once.
    if (supervisor.exitCode === null && supervisor.signalCode === null) supervisor.kill('SIGINT')
  }
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  supervisor.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

// ---- the supervisor ----------------------------------------------------------------------------

interface DemoNode {
  readonly id: string
  readonly child: ChildProcess
  readonly log: string
  address: string | undefined
}

/** Starts one kdp-archiver node as `node --import tsx src/cli/main.ts`, with its output in `log`. */
function spawnNode(id: string, brokers: string, logsDir: string): DemoNode {
  const log = join(logsDir, `${id}.log`)
  const out = createWriteStream(log, { flags: 'a' })
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'src', 'cli', 'main.ts'),
      '--brokers',
      brokers,
      '--sink',
      pathToFileURL(archiveDir).href,
      '--http-port',
      '0',
      '--node-id',
      id,
      // A livelier dashboard than the default 5 s.
      '--status-interval',
      '2s',
      '--no-progress',
    ],
    {
      cwd: repoRoot,
      // The token goes through the environment: it stays out of the process list.
      env: { ...process.env, KDP_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  child.stdout?.pipe(out, { end: false })
  child.stderr?.pipe(out, { end: false })
  child.once('exit', () => setTimeout(() => out.end(), 100))
  return { id, child, log, address: undefined }
}

/** Resolves with the node's HTTP address from its startup line; rejects if it exits first. */
function nodeReady(node: DemoNode, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${node.id} did not start within ${timeoutMs / 1000} s; see ${node.log}`)),
      timeoutMs,
    )
    const onExit = (code: number | null): void => {
      clearTimeout(timer)
      reject(new Error(`${node.id} exited with code ${code} while starting; see ${node.log}`))
    }
    node.child.once('exit', onExit)
    if (!node.child.stdout) return reject(new Error('no stdout'))
    const lines = createInterface({ input: node.child.stdout })
    lines.on('line', (line) => {
      const address = /HTTP API at (http:\/\/\S+)/.exec(line)?.[1]
      if (address === undefined) return
      clearTimeout(timer)
      node.child.off('exit', onExit)
      resolve(address)
    })
  })
}

/** Files and bytes under `dir` (recursive); zero if it does not exist. */
async function folderSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0
  let bytes = 0
  const walk = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) await walk(full)
      else if (entry.isFile() && !entry.name.startsWith('.')) {
        files++
        bytes += (await stat(full).catch(() => ({ size: 0 }))).size
      }
    }
  }
  await walk(dir)
  return { files, bytes }
}

/**
 * The archive config of the demo topic: files partitioned by the tweet's time and language, rotated
 * every 2000 records or 15 s so that files show up quickly, three archivers (one per node).
 */
async function putDemoConfig(address: string): Promise<void> {
  const body = {
    // A folder per topic: object names carry the topic too, but a folder is easier to browse.
    sinks: [{ id: 'default', url: pathToFileURL(join(archiveDir, topic)).href }],
    pathTemplate: 'dt={date}/hr={hour}/lang={$.lang}',
    time: { field: '$.timestamp_ms', format: 'epoch-ms', granularity: 'minute' },
    rotation: { maxRecords: 2000, maxAgeMs: 15_000 },
    parallelism: nodeCount,
  }
  const response = await fetch(`${address}/topics/${topic}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })
  if (!response.ok) {
    say(
      `warning: the demo config was refused (${response.status}: ${await response.text()}); using the defaults`,
    )
  }
}

async function supervise(): Promise<void> {
  // Steps under way are awaited by stopAll, so that nothing started late outlives the demo.
  let kafka: Promise<KafkaCluster> | undefined
  let load: Promise<Load> | undefined
  let status: StatusLine | undefined
  let archiveWatch: NodeJS.Timeout | undefined
  const nodes: DemoNode[] = []
  let stopping = false
  let forced = false

  const stopAll = async (code: number): Promise<never> => {
    stopping = true
    status?.stop()
    if (archiveWatch) clearInterval(archiveWatch)
    const runningLoad = await load?.catch(() => undefined)
    if (runningLoad) {
      say('\nstopping the load generator...')
      await runningLoad.stop()
    }
    const running = nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null)
    if (running.length > 0) {
      say(
        `stopping ${running.length} nodes (they stop archiving and leave the group; records not yet in a file stay in Kafka, uncommitted, for the next run)...`,
      )
      await Promise.all(running.map((n) => stopChild(n.child, forced ? 'SIGKILL' : 'SIGTERM', 30_000)))
    }
    const broker = await kafka?.catch(() => undefined)
    if (broker) {
      say('stopping the Kafka broker...')
      await broker.stop()
    }
    say(`stopped. The archive stays in ${archiveDir}.`)
    process.exit(code)
  }
  const onSignal = (): void => {
    if (!stopping) {
      void stopAll(0)
      return
    }
    // A second Ctrl-C: kill the nodes now; the broker still stops (it deletes its data).
    forced = true
    say('killing the nodes...')
    for (const n of nodes)
      if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL')
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // The launcher is gone (killed): do not outlive it.
  process.on('disconnect', onSignal)

  try {
    await ensureServicesInstalled()
    say('starting a local Kafka broker...')
    kafka = startKafka()
    const broker = await kafka
    if (stopping) return
    const brokers = broker.bootstrap
    // The broker is new, so offsets (and with them file names) start over: the last run's files go.
    rmSync(join(archiveDir, topic), { recursive: true, force: true })
    mkdirSync(archiveDir, { recursive: true })
    const logsDir = mkdtempSync(join(tmpdir(), 'kdp-demo-'))
    say(`starting ${nodeCount} kdp-archiver nodes...`)
    for (let i = 1; i <= nodeCount; i++) nodes.push(spawnNode(`demo-${i}`, brokers, logsDir))
    const addresses = await Promise.all(nodes.map((n) => nodeReady(n, 120_000)))
    nodes.forEach((n, i) => {
      n.address = addresses[i]
      n.child.once('exit', (code, signal) => {
        if (stopping) return
        status?.clear()
        say(`warning: ${n.id} exited (code ${code}, signal ${signal}); see ${n.log}`)
      })
    })
    if (stopping) return

    // The demo's archive config goes in before the topic exists, so the master never writes its default.
    await putDemoConfig(nodes[0]?.address ?? '')
    const admin = connectKafka({ brokers: broker.brokers, clientId: 'kdp-demo', logger: silentLogger })
    await admin.ensureTopic({ topic, partitions })
    await admin.disconnect()

    const loadLogger = createLogger({ level: 'warn', name: 'loadgen' })
    load = startLoad(
      {
        brokers: broker.brokers,
        topic,
        partitions,
        rate,
        valueBytes: 300,
        keys: 1000,
        count: undefined,
        durationMs: undefined,
        seed: 42,
      },
      loadLogger,
    )
    const running = await load
    if (stopping) return
    void running.done.catch((error: unknown) => {
      if (stopping) return
      status?.clear()
      say(`warning: the load generator stopped: ${error instanceof Error ? error.message : String(error)}`)
    })

    const first = nodes[0]?.address ?? ''
    say('')
    say('kdp demo is running')
    say(`  dashboard          ${first}/   (every node serves it; open it and kill a node)`)
    say(`  Kafka broker       ${brokers}`)
    for (const n of nodes) say(`  ${n.id.padEnd(18)} ${n.address}   (HTTP API of this node)`)
    say(`  load generator     ${rate} fake tweets/s to topic '${topic}' (${partitions} partitions)`)
    say(
      `  archive folder     ${archiveDir}/${topic}/dt=…/hr=…/lang=…/ (new files every ~15 s; emptied at start)`,
    )
    say(`  node logs          ${logsDir}`)
    say(`  token for writes   ${token}`)
    say('')
    say('Try:')
    say(`  curl ${first}/health`)
    say(`  curl ${first}/nodes`)
    say(`  curl ${first}/processes`)
    say(`  curl ${first}/topics/${topic}/lag`)
    say(`  curl ${first}/metrics`)
    say(`  curl ${first}/topics/${topic}/config`)
    say(`  curl -X POST -H 'authorization: Bearer ${token}' ${first}/topics/${topic}/pause`)
    say(`  find ${archiveDir} -type f | head`)
    say(`  kill -9 <pid of a node> (see ${first}/nodes) and watch the dashboard move its work`)
    say('')
    say('Press Ctrl-C to stop everything (the nodes first, the broker last).')

    let archive = { files: 0, bytes: 0 }
    archiveWatch = setInterval(() => {
      void folderSize(join(archiveDir, topic)).then((size) => {
        archive = size
      })
    }, 2000)
    archiveWatch.unref()
    if (process.stderr.isTTY) {
      const meter = new RateMeter(3000)
      const started = performance.now()
      status = new StatusLine(process.stderr, () => {
        const sent = running.sent().records
        const up = nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null).length
        const seconds = Math.round((performance.now() - started) / 1000)
        return (
          `sent ${formatCount(sent)} tweets (${formatCount(meter.sample(sent))}/s) | ` +
          `archive/${topic}: ${formatCount(archive.files)} files, ${formatBytes(archive.bytes)} | ` +
          `nodes up ${up}/${nodeCount} | ${seconds} s`
        )
      })
      status.start()
    }
    // Keep the supervisor alive until a signal stops it.
    setInterval(() => {}, 1 << 30)
  } catch (error) {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`)
    if (!stopping) await stopAll(1)
  }
}

/** The supervisor of `--autoscale`: the same signals, the stopping order is demoAutoscale.ts's. */
async function superviseAutoscale(): Promise<void> {
  let stopping = false
  let stop: (() => Promise<void>) | undefined
  const stopAll = async (code: number): Promise<never> => {
    stopping = true
    await stop?.().catch((error: unknown) => say(`stopping failed: ${String(error)}`))
    say(`stopped. The archive stays in ${archiveDir}.`)
    process.exit(code)
  }
  const onSignal = (): void => {
    // A second Ctrl-C: leave at once (the services' own processes are killed with ours).
    if (stopping) process.exit(130)
    void stopAll(0)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('disconnect', onSignal)
  try {
    await runAutoscaleDemo(
      (s) => {
        stop = s
      },
      () => stopping,
    )
    setInterval(() => {}, 1 << 30)
  } catch (error) {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`)
    if (!stopping) await stopAll(1)
  }
}

if (process.env[supervisorVariable] === '1') {
  if (process.argv.includes('--autoscale')) await superviseAutoscale()
  else await supervise()
} else launch()
