// The idle cost of serving the dashboard: CPU of one node (from /proc/<pid>/stat, so measuring costs
// it nothing) over a window with no dashboard open, then over the same window with 10 dashboard
// streams open on it, in an idle cluster of 3 nodes on a broker of the bench's own. Each repetition
// starts fresh nodes: a node starts reading the events topic only when the first page opens, and
// that cost belongs to the "10 pages" side.
//
//   npm run bench:dashboard -- [--reps 3] [--window 60] [--clients 10]
//
// The nodes are the shipped CLI (`kdp-archiver`, compiled to dist/bench-dashboard and run with plain
// node). The streams are plain HTTP clients in this process that read every event, as a page would.
// Results: bench/results/dashboard-idle.json; docs/benchmarks.md ("Dashboard") quotes them.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { repoRoot } from '../../services/process.js'
import { cpuSeconds } from '../coordination/procfs.js'
import { summarize } from '../coordination/stats.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 ? Number(args[at + 1]) : fallback
}
const reps = option('reps', 3)
const windowMs = option('window', 60) * 1000
const clients = option('clients', 10)
/** After the nodes start (or the streams open), before measuring: joins and the first rounds settle. */
const warmupMs = 20_000
const nodeCount = 3
const outDir = join(repoRoot, 'dist', 'bench-dashboard')

const log = (line: string) => process.stderr.write(`[dashboard-idle] ${line}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const load = () => loadavg().map((l) => Math.round(l * 100) / 100)

interface Node {
  readonly child: ChildProcess
  readonly address: string
}

function startNode(brokers: string, cluster: string, id: string, sinkDir: string): Promise<Node> {
  const child = spawn(
    process.execPath,
    [
      join(outDir, 'src', 'cli', 'main.js'),
      '--brokers',
      brokers,
      '--sink',
      pathToFileURL(sinkDir).href,
      '--cluster',
      cluster,
      '--node-id',
      id,
      '--http-port',
      '0',
      '--include',
      'none-such',
      '--no-progress',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${id} exited with ${code}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const address = /HTTP API at (http:\/\/\S+)/.exec(line)?.[1]
      if (address) resolve({ child, address })
    })
  })
}

async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null) return
  const exited = new Promise((resolve) => node.child.once('exit', resolve))
  node.child.kill('SIGTERM')
  await exited
}

/** `count` streams on `address`, each reading and dropping every event; returns their closer and event count. */
function openStreams(address: string, count: number) {
  let events = 0
  const requests = Array.from({ length: count }, () =>
    get(`${address}/stream`, (response) => {
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        events += chunk.split('\n\n').length - 1
      })
    }),
  )
  const close = (): void => {
    for (const request of requests) request.destroy()
  }
  return { close, events: () => events }
}

/** CPU % of one core used by `pid` over `ms`. */
async function cpuPercent(pid: number, ms: number): Promise<number> {
  const before = cpuSeconds(pid)
  const at = performance.now()
  await sleep(ms)
  const used = cpuSeconds(pid) - before
  return Math.round(((used * 1000) / (performance.now() - at)) * 100 * 100) / 100
}

async function main(): Promise<void> {
  log('compiling src (tsconfig.build.json → dist/bench-dashboard), with the dashboard files')
  execFileSync(
    process.execPath,
    [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  )
  cpSync(join(repoRoot, 'src', 'http', 'dashboard'), join(outDir, 'src', 'http', 'dashboard'), {
    recursive: true,
  })
  let kafka: KafkaCluster | undefined
  const nodes: Node[] = []
  const startLoad = load()
  const runs: Array<{ idle: number; streams: number; extra: number; events: number }> = []
  try {
    kafka = await startKafka({ brokers: 1 })
    for (let rep = 1; rep <= reps; rep++) {
      const cluster = `bench-${rep}-${Date.now().toString(36)}`
      const sinkDir = mkdtempSync(join(tmpdir(), 'kdp-bench-dashboard-'))
      log(`rep ${rep}/${reps}: starting ${nodeCount} nodes (cluster ${cluster})`)
      for (let i = 1; i <= nodeCount; i++)
        nodes.push(await startNode(kafka.bootstrap, cluster, `n${i}`, sinkDir))
      const measured = nodes[0]!
      await sleep(warmupMs)
      const idle = await cpuPercent(measured.child.pid!, windowMs)
      log(`rep ${rep}: no page open: ${idle} %`)
      const streams = openStreams(measured.address, clients)
      await sleep(warmupMs)
      const before = streams.events()
      const withStreams = await cpuPercent(measured.child.pid!, windowMs)
      const events = streams.events() - before
      streams.close()
      log(`rep ${rep}: ${clients} streams open: ${withStreams} % (${events} events received in the window)`)
      runs.push({ idle, streams: withStreams, extra: Math.round((withStreams - idle) * 100) / 100, events })
      await Promise.all(nodes.splice(0).map(stopNode))
    }
  } finally {
    await Promise.all(nodes.splice(0).map(stopNode))
    await kafka?.stop()
  }
  const idle = summarize(runs.map((r) => r.idle))
  const streams = summarize(runs.map((r) => r.streams))
  const extra = summarize(runs.map((r) => r.extra))
  const result = {
    benchmark: 'dashboard-idle',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadAverageAtStart: startLoad, loadAverageAtEnd: load() },
    setup: { nodes: nodeCount, clients, windowMs, warmupMs, reps, statusIntervalMs: 5000 },
    measurements: {
      idleCpuPercent: idle,
      withStreamsCpuPercent: streams,
      extraCpuPercent: extra,
      runs,
    },
    target: { extraCpuPercentBelow: 1 },
    met: extra.median < 1,
  }
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true })
  writeFileSync(
    join(repoRoot, 'bench', 'results', 'dashboard-idle.json'),
    `${JSON.stringify(result, null, 2)}\n`,
  )
  log(`median: ${idle.median} % idle, ${streams.median} % with ${clients} streams, extra ${extra.median} %`)
}

await main()
