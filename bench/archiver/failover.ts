// How long archiving stops when an archive node is killed (kill -9), by the archive consumer
// groups' session (the baseline: 30 s, what kdp used before, against the default 10 s; alternated
// in one run). Two nodes (bench/archiver/failoverNode.ts, the archive cluster's defaults otherwise)
// archive one topic of 8 partitions with parallelism 2 (an archiver per node) while a producer
// writes 200 records/s to each partition; files of 100 records, so each partition commits about
// twice a second. Every 100 ms the controller reads the group's committed offsets; after the kill
// of one node it records, per partition, the longest time without a commit. The largest over the
// partitions is the dead node's partitions' outage; the smallest, the pause every partition had.
//
//   npm run bench:archiver -- failover [--reps 3]
//
// Writes bench/results/archiver-failover.json; docs/benchmarks.md quotes it.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Admin, Producer } from 'kafkajs'
import { repoRoot } from '../../services/process.js'
import { archiveGroupId } from '../../src/processes/archiver/index.js'
import { sleep } from '../../src/util/sleep.js'
import { codeVersion, load, log, machine, resultsDir, round, startBroker, summarize } from './common.js'

const repsArg = process.argv.indexOf('--reps')
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 3
const sessions = [30_000, 10_000] as const
const partitions = 8
const recordsPerSecondPerPartition = 200
const token = 'bench-failover-not-a-secret'
/** How long after the kill the commits are watched: past the longest session plus the placement's failover. */
const watchMs = 50_000

interface Node {
  readonly child: ChildProcess
  readonly http: string
}

function startNode(
  brokers: readonly string[],
  cluster: string,
  nodeId: string,
  sessionMs: number,
): Promise<Node> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'bench/archiver/failoverNode.ts')],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        KDP_BENCH_FAILOVER_NODE: JSON.stringify({
          brokers,
          cluster,
          nodeId,
          token,
          archiveSessionTimeoutMs: sessionMs,
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node ${nodeId} exited with ${code} before it was ready`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const ready = JSON.parse(line) as { ready?: string; http?: string }
      if (ready.ready === nodeId && ready.http) resolve({ child, http: ready.http })
    })
  })
}

async function committed(admin: Admin, groupId: string, topic: string): Promise<number[]> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] })
  const offsets = new Array<number>(partitions).fill(-1)
  for (const p of entry?.partitions ?? []) offsets[p.partition] = Number(p.offset)
  return offsets
}

/** Writes `recordsPerSecondPerPartition` to every partition until `signal` aborts. */
async function produce(producer: Producer, topic: string, signal: AbortSignal): Promise<void> {
  const perTick = recordsPerSecondPerPartition / 20
  for (let i = 0; !signal.aborted; i++) {
    const messages = []
    for (let p = 0; p < partitions; p++)
      for (let r = 0; r < perTick; r++) messages.push({ partition: p, value: `{"n":${i},"p":${p},"r":${r}}` })
    await producer.send({ topic, messages })
    await sleep(50)
  }
}

async function measure(
  broker: Awaited<ReturnType<typeof startBroker>>,
  sessionMs: number,
  rep: number,
): Promise<{ victimPartitions: number; outageMs: number; pauseMs: number; perPartitionMs: number[] }> {
  const { cluster: kafkaCluster, kafka, admin } = broker
  const brokers = [...kafkaCluster.brokers]
  const cluster = `failover-${sessionMs / 1000}s-${rep}-${Date.now()}`
  const topic = `${cluster}-data`
  const dir = mkdtempSync(join(tmpdir(), 'kdp-failover-'))
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  const producer = kafka.producer()
  await producer.connect()
  const stopProducing = new AbortController()
  const producing = produce(producer, topic, stopProducing.signal)
  const nodes = [
    await startNode(brokers, cluster, `${cluster}-a`, sessionMs),
    await startNode(brokers, cluster, `${cluster}-b`, sessionMs),
  ]
  try {
    const put = await fetch(`${nodes[0]!.http}/topics/${topic}/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        sinks: [{ id: 'local', url: `file://${dir}` }],
        format: 'lines',
        compression: 'none',
        parallelism: 2,
        rotation: { maxRecords: 100 },
      }),
    })
    if (put.status !== 200) throw new Error(`PUT config: ${put.status} ${await put.text()}`)
    const groupId = archiveGroupId(cluster, topic, 'local')
    // Steady state: every partition committed twice in a row, 2 s apart.
    for (let before = await committed(admin, groupId, topic); ; ) {
      await sleep(2000)
      const now = await committed(admin, groupId, topic)
      if (now.every((o, p) => o > (before[p] ?? -1) && (before[p] ?? -1) >= 0)) break
      before = now
    }
    await sleep(3000)
    // Placement decides where the two archivers run (both may land on one node): kill one that archives.
    const reported = (await (await fetch(`${nodes[0]!.http}/nodes`)).json()) as Array<{
      nodeId: string
      partitions: Array<{ topic: string }>
    }>
    const owned = (nodeId: string) =>
      reported.find((n) => n.nodeId === nodeId)?.partitions.filter((p) => p.topic === topic).length ?? 0
    const victim = owned(`${cluster}-b`) > 0 ? 1 : 0
    const victimPartitions = owned(`${cluster}-${victim === 1 ? 'b' : 'a'}`)
    let last = await committed(admin, groupId, topic)
    const lastAdvance = new Array<number>(partitions).fill(performance.now())
    const longest = new Array<number>(partitions).fill(0)
    const killedAt = performance.now()
    nodes[victim]!.child.kill('SIGKILL')
    log(
      `session ${sessionMs / 1000} s, rep ${rep}: killed a node that archived ${victimPartitions} partitions`,
    )
    while (performance.now() - killedAt < watchMs) {
      await sleep(100)
      const now = await committed(admin, groupId, topic)
      const at = performance.now()
      for (let p = 0; p < partitions; p++) {
        if ((now[p] ?? -1) > (last[p] ?? -1)) {
          longest[p] = Math.max(longest[p]!, at - lastAdvance[p]!)
          lastAdvance[p] = at
        }
      }
      last = now
    }
    // A partition that never committed again counts up to the end of the watch.
    const end = performance.now()
    for (let p = 0; p < partitions; p++) longest[p] = Math.max(longest[p]!, end - lastAdvance[p]!)
    return {
      victimPartitions,
      outageMs: Math.round(Math.max(...longest)),
      pauseMs: Math.round(Math.min(...longest)),
      perPartitionMs: longest.map(Math.round),
    }
  } finally {
    stopProducing.abort()
    await producing.catch(() => {})
    await producer.disconnect()
    for (const node of nodes) node.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

const broker = await startBroker()
const loadAtStart = load()
const runs: Array<{
  sessionMs: number
  rep: number
  outageMs: number
  pauseMs: number
  perPartitionMs: number[]
}> = []
try {
  for (let rep = 1; rep <= reps; rep++) {
    for (const sessionMs of sessions) {
      const result = await measure(broker, sessionMs, rep)
      log(
        `session ${sessionMs / 1000} s, rep ${rep}: outage ${result.outageMs} ms, pause ${result.pauseMs} ms`,
      )
      runs.push({ sessionMs, rep, ...result })
    }
  }
} finally {
  await broker.shutdown()
}
const summary = Object.fromEntries(
  sessions.map((sessionMs) => {
    const of = runs.filter((r) => r.sessionMs === sessionMs)
    return [
      `session-${sessionMs / 1000}s`,
      { outageMs: summarize(of.map((r) => r.outageMs)), pauseMs: summarize(of.map((r) => r.pauseMs)) },
    ]
  }),
)
const outageRatio = round(
  (summary['session-10s']?.outageMs.median ?? Number.NaN) /
    (summary['session-30s']?.outageMs.median ?? Number.NaN),
)
const result = {
  options: { reps, partitions, recordsPerSecondPerPartition, filesOfRecords: 100, watchMs },
  machine: machine(),
  code: codeVersion(),
  loadAtStart,
  loadAtEnd: load(),
  summary,
  outageRatio,
  runs,
}
writeFileSync(join(resultsDir, 'archiver-failover.json'), `${JSON.stringify(result, null, 2)}\n`)
log(`outage median: 10 s session / 30 s session = ${outageRatio}`)
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
