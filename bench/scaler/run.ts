// `npm run bench:scaler [-- --reps 2 --keep-logs]`: the scaler's reaction times on a closed loop.
// A broker and moto of its own; an Auto Scaling group (1..3) in moto whose instances the launcher
// plays with kdp-archiver processes (built JS, plain node: no tsx in the measured processes); a
// load that steps 100 → 800 → 60 records/s. Measured per repetition, from the nodes' own events:
// - scale-out: load step → decision; decision → the new node's API up → it runs an archiver;
// - load step → lag back under the target (while the load is still on);
// - scale-in: load drop → decision; drain asked → drained → instance terminated → process gone;
// - records re-read because of the scale-ins (and how many of them were in files not cut yet);
// - every record archived exactly once, read back from S3.
// Results: bench/results/scaler.json; write-up: docs/benchmarks.md ("Scaler").
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling'
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { Kafka, logLevel } from 'kafkajs'
import { archiverOnMoto, createMotoGroup, startAsgLauncher } from '../../services/asgLauncher.js'
import { ensureServicesInstalled } from '../../services/install.js'
import { startKafka } from '../../services/kafka.js'
import { startMoto } from '../../services/moto.js'
import { repoRoot } from '../../services/process.js'
import { connectKafka } from '../../src/kafka/index.js'
import { archiveGroupId } from '../../src/processes/archiver/index.js'
import { silentLogger } from '../../src/util/logging.js'

const args = process.argv.slice(2)
const repsAt = args.indexOf('--reps')
const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 2
if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps takes a positive integer')
const keepLogs = args.includes('--keep-logs')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
const partitions = 6
const targetLag = 2000
const steps = [
  { name: 'warm', rate: 100, ms: 20_000 },
  { name: 'step', rate: 800, ms: 120_000 },
  { name: 'drop', rate: 60, ms: 90_000 },
] as const

interface Event {
  readonly type: string
  readonly at: string
  readonly [field: string]: unknown
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? null : (sorted[Math.floor((sorted.length - 1) / 2)] ?? null)
}
const seconds = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : Math.round(ms / 100) / 10

function build(): string[] {
  const built = spawnSync(
    process.execPath,
    [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  )
  const main = join(repoRoot, 'dist/src/cli/main.js')
  if (built.status !== 0 || !existsSync(main)) throw new Error('the build failed (npm run build)')
  return [main]
}

async function repetition(rep: number, brokers: string, moto: string, entry: string[]) {
  const tag = `${Date.now().toString(36)}-${rep}`
  const group = `bench-asg-${tag}`
  const cluster = `bench-${tag}`
  const bucket = `bench-bucket-${tag}`
  const topic = `bench-load-${tag}`
  const logDir = mkdtempSync(join(tmpdir(), 'kdp-bench-scaler-'))
  const asg = new AutoScalingClient({ endpoint: moto, region: 'us-east-1', credentials })
  const s3 = new S3Client({ endpoint: moto, forcePathStyle: true, region: 'us-east-1', credentials })
  await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  await createMotoGroup(asg, moto, group, { min: 1, max: 3, desired: 1 })
  const token = 'bench'
  const launcher = startAsgLauncher({
    client: asg,
    group,
    logDir,
    entry,
    command: archiverOnMoto({
      brokers,
      cluster,
      group,
      moto,
      sink: `s3://${bucket}/default`,
      token,
      statusInterval: '1s',
      maxMessagesInFlight: 20,
      env: process.env,
    }),
  })
  const address = async () => {
    for (;;) {
      const a = [...launcher.running().values()].find((n) => n.address !== undefined)?.address
      if (a) return a
      await sleep(100)
    }
  }
  const put = async (path: string, body: unknown) => {
    const response = await fetch(`${await address()}${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!response.ok) throw new Error(`PUT ${path}: ${response.status} ${await response.text()}`)
  }
  await put('/scaling/config', {
    mode: 'auto',
    intervalMs: 1000,
    minNodes: 1,
    maxNodes: 3,
    targetLag,
    calmLag: 500,
    growingIntervals: 3,
    maxDrainMs: 20_000,
    calmIntervals: 5,
    scaleOutCooldownMs: 8000,
    scaleInCooldownMs: 8000,
    maxStepOut: 1,
    joinTimeoutMs: 60_000,
    drainTimeoutMs: 30_000,
    instanceRecordsPerSec: 350,
    cpuScaleOutPercent: 100_000,
    cpuScaleInPercent: 99_999,
  })
  const admin = connectKafka({ brokers: brokers.split(','), clientId: 'bench-admin', logger: silentLogger })
  await admin.ensureTopic({ topic, partitions, replicationFactor: 1 })
  await put(`/topics/${topic}/config`, {
    sinks: [{ id: 's3', url: `s3://${bucket}/archive` }],
    pathTemplate: 'all',
    rotation: { maxRecords: 200, maxAgeMs: 2000 },
  })
  const events: Event[] = []
  const tail = await admin.tail(`${cluster}-events`, (r) => {
    if (r.value) events.push(JSON.parse(r.value.toString('utf8')) as Event)
  })
  // Samples every 250 ms: wall-clock ms, the archive group's lag, the group, who archives the topic.
  const samples: Array<{ at: number; lag: number; desired: number; archiving: string[] }> = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const [lag, described, placements] = await Promise.all([
        admin.groupLag(archiveGroupId(cluster, topic, 's3'), topic).catch(() => undefined),
        asg
          .send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))
          .catch(() => undefined),
        address()
          .then((a) => fetch(`${a}/processes`))
          .then((r) => r.json() as Promise<Array<{ key: string; nodeId: string; state: string }>>)
          .catch(() => []),
      ])
      if (lag) {
        samples.push({
          at: Date.now(),
          lag: [...lag.values()].reduce((a, b) => a + b, 0),
          desired: described?.AutoScalingGroups?.[0]?.DesiredCapacity ?? -1,
          archiving: [
            ...new Set(
              placements
                .filter((p) => p.key.startsWith(`${topic}|`) && p.state === 'running')
                .map((p) => p.nodeId),
            ),
          ],
        })
      }
      await sleep(250)
    }
  })()

  const producer = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).producer()
  await producer.connect()
  const sent = Array.from({ length: partitions }, () => 0)
  const began: Record<string, number> = {}
  for (const step of steps) {
    began[step.name] = Date.now()
    const start = performance.now()
    let stepSent = 0
    while (performance.now() - start < step.ms) {
      const due = Math.floor((step.rate * (performance.now() - start)) / 1000) - stepSent
      if (due > 0) {
        await producer.send({
          topic,
          messages: Array.from({ length: due }, (_, i) => {
            const p = (stepSent + i) % partitions
            return { partition: p, value: JSON.stringify({ p, seq: sent[p]!++ }) }
          }),
        })
        stepSent += due
      }
      await sleep(50)
    }
  }
  await producer.disconnect()
  const stopped = Date.now()
  // The scale-in may still be under way: wait for the minimum (bounded).
  for (let waited = 0; waited < 120_000; waited += 1000) {
    const last = samples.at(-1)
    if (last && last.desired === 1 && launcher.running().size === 1 && last.lag === 0) break
    await sleep(1000)
  }
  sampling = false
  await sampler
  await tail.stop()

  // Exactly once, read back.
  const counts = new Map<string, number>()
  let continuation: string | undefined
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'archive/', ContinuationToken: continuation }),
    )
    for (const object of page.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))
      for (const line of gunzipSync(Buffer.from(await body.Body!.transformToByteArray()))
        .toString('utf8')
        .split('\n')) {
        if (!line) continue
        const { p, seq } = JSON.parse(line) as { p: number; seq: number }
        counts.set(`${p}:${seq}`, (counts.get(`${p}:${seq}`) ?? 0) + 1)
      }
    }
    continuation = page.NextContinuationToken
  } while (continuation)
  const total = sent.reduce((a, b) => a + b, 0)
  const duplicated = [...counts.values()].filter((n) => n > 1).length
  const missing = total - [...counts.keys()].length

  const at = (e: Event) => Date.parse(e.at)
  const launched = launcher.history.map((h) => ({ ...h, wall: performance.timeOrigin + h.at }))
  const step = began.step ?? 0
  const drop = began.drop ?? 0
  const outs = events.filter((e) => e.type === 'scaling-decision' && e.action === 'out')
  const ins = events.filter((e) => e.type === 'scaling-decision' && e.action === 'in')
  const scaleOut = outs.map((decision, i) => {
    const decidedAt = at(decision)
    const ready = launched.find((h) => h.what === 'ready' && h.wall > decidedAt)
    const archivingAt =
      ready === undefined
        ? undefined
        : samples.find((s) => s.at > decidedAt && s.archiving.includes(ready.instanceId))?.at
    return {
      from: decision.from,
      to: decision.to,
      reason: decision.reason,
      sinceStepS: seconds(decidedAt - (i === 0 ? step : at(outs[i - 1]!))),
      nodeUpS: seconds(ready === undefined ? null : ready.wall - decidedAt),
      archivingS: seconds(archivingAt === undefined ? null : archivingAt - decidedAt),
    }
  })
  const exceeded = samples.find((s) => s.at >= step && s.lag > targetLag)
  const backUnder =
    exceeded === undefined ? undefined : samples.find((s) => s.at > exceeded.at && s.lag <= targetLag)
  const scaleIn = ins.map((decision, i) => {
    const decidedAt = at(decision)
    const requested = events.find((e) => e.type === 'drain-requested' && at(e) >= decidedAt - 100)
    const target = requested?.target
    const drained = events.find((e) => e.type === 'node-drained' && e.target === target)
    const terminated = events.find((e) => e.type === 'instance-terminated' && e.target === target)
    const gone = launched.find((h) => h.what === 'stopped' && h.instanceId === target)
    return {
      from: decision.from,
      to: decision.to,
      sinceDropS: seconds(decidedAt - (i === 0 ? drop : at(ins[i - 1]!))),
      drainS: seconds(drained && requested ? at(drained) - at(requested) : null),
      terminateS: seconds(terminated && drained ? at(terminated) - at(drained) : null),
      processGoneS: seconds(gone && terminated ? gone.wall - at(terminated) : null),
      reReadRecords: Number(drained?.reReadRecords ?? Number.NaN),
      uncutRecords: Number(drained?.uncutRecords ?? Number.NaN),
    }
  })
  await launcher.stop(30_000)
  await admin.disconnect()
  asg.destroy()
  s3.destroy()
  if (!keepLogs) rmSync(logDir, { recursive: true, force: true })
  return {
    records: total,
    duplicated,
    missing,
    peakCapacity: Math.max(...samples.map((s) => s.desired)),
    maxSpread: Math.max(...samples.map((s) => s.archiving.length)),
    lagPeak: Math.max(...samples.map((s) => s.lag)),
    lagBackUnderTargetS: seconds(backUnder === undefined ? null : backUnder.at - step),
    loadOnUntilS: seconds(drop - step),
    decisions: { out: outs.length, in: ins.length },
    scaleOut,
    scaleIn,
    reRead: {
      records: scaleIn.reduce((a, s) => a + s.reReadRecords, 0),
      inUncutFiles: scaleIn.reduce((a, s) => a + s.uncutRecords, 0),
    },
    settledAfterLoadS: seconds(Date.now() - stopped),
    logs: keepLogs ? logDir : null,
  }
}

await ensureServicesInstalled()
const entry = build()
const [kafka, moto] = await Promise.all([startKafka(), startMoto()])
const results: Array<Awaited<ReturnType<typeof repetition>>> = []
try {
  for (let rep = 0; rep < reps; rep++) {
    const result = await repetition(rep, kafka.bootstrap, moto.endpoint, entry)
    console.log(JSON.stringify(result))
    results.push(result)
  }
} finally {
  await Promise.all([kafka.stop(), moto.stop()])
}
const summary = {
  firstScaleOutDecisionS: median(results.map((r) => r.scaleOut[0]?.sinceStepS ?? Number.NaN)),
  scaleOutNodeUpS: median(results.flatMap((r) => r.scaleOut.map((s) => s.nodeUpS ?? Number.NaN))),
  scaleOutArchivingS: median(results.flatMap((r) => r.scaleOut.map((s) => s.archivingS ?? Number.NaN))),
  lagBackUnderTargetS: median(results.map((r) => r.lagBackUnderTargetS ?? Number.NaN)),
  firstScaleInDecisionS: median(results.map((r) => r.scaleIn[0]?.sinceDropS ?? Number.NaN)),
  drainS: median(results.flatMap((r) => r.scaleIn.map((s) => s.drainS ?? Number.NaN))),
  terminateAfterDrainS: median(results.flatMap((r) => r.scaleIn.map((s) => s.terminateS ?? Number.NaN))),
  reReadRecords: results.map((r) => r.reRead.records),
  reReadBeyondUncutFiles: results.map((r) => r.reRead.records - r.reRead.inUncutFiles),
  duplicated: results.reduce((a, r) => a + r.duplicated, 0),
  missing: results.reduce((a, r) => a + r.missing, 0),
}
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true })
writeFileSync(
  join(repoRoot, 'bench/results/scaler.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, steps, targetLag, summary, results }, null, 2)}\n`,
)
console.log(JSON.stringify(summary, null, 2))
