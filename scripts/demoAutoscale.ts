// `npm run demo -- --autoscale`: the archiving cluster growing and shrinking itself. A local broker
// and moto (S3, Auto Scaling, EC2); an Auto Scaling group in moto (1 to 4 instances) whose instances
// the launcher plays with real kdp-archiver processes; a load that ramps fake tweets up and down;
// the scaler deciding. The progress line shows the group's capacity, the nodes, the lag and the
// scaler's latest decision. Started by demo.ts's supervisor (same stop rules: nodes first, services last).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling'
import {
  type AsgLauncher,
  archiverOnMoto,
  createMotoGroup,
  startAsgLauncher,
} from '../services/asgLauncher.js'
import { ensureServicesInstalled } from '../services/install.js'
import { type KafkaCluster, startKafka } from '../services/kafka.js'
import { type Moto, startMoto } from '../services/moto.js'
import { repoRoot } from '../services/process.js'
import { formatCount, RateMeter, StatusLine } from '../src/cli/progress.js'
import { connectKafka, type KafkaClient } from '../src/kafka/index.js'
import { type Load, startLoad } from '../src/loadgen/load.js'
import { archiveGroupId } from '../src/processes/archiver/index.js'
import { createLogger, silentLogger } from '../src/util/logging.js'
import { sleep } from '../src/util/sleep.js'

const topic = 'tweets'
const partitions = 6
const cluster = 'kdp'
const group = 'kdp-demo-nodes'
const token = 'kdp-demo'
const archiveDir = join(repoRoot, 'archive')
/** The load, over and over: quiet, a peak more than one node can take, quiet again (records/s, s). */
const ramp = [
  { rate: 150, seconds: 30 },
  { rate: 700, seconds: 90 },
  { rate: 0, seconds: 90 },
]

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

/**
 * Runs the autoscaling demo. `onStop` gets the function that stops it at once, before anything
 * starts (a Ctrl-C during startup stops what was started so far); `stopping()` says a stop began.
 */
export async function runAutoscaleDemo(
  onStop: (stop: () => Promise<void>) => void,
  stopping: () => boolean,
): Promise<void> {
  let kafka: KafkaCluster | undefined
  let moto: Moto | undefined
  let launcher: AsgLauncher | undefined
  let admin: KafkaClient | undefined
  let status: StatusLine | undefined
  let load: Load | undefined
  let cycling = true
  let poll: NodeJS.Timeout | undefined
  const asgClient = (endpoint: string) =>
    new AutoScalingClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    })
  let asg: AutoScalingClient | undefined
  const stop = async (): Promise<void> => {
    cycling = false
    clearInterval(poll)
    status?.stop()
    if (load) {
      say('\nstopping the load generator...')
      await load.stop()
    }
    if (launcher) {
      say('stopping the nodes (each hands its archivers over)...')
      await launcher.stop(30_000)
    }
    await admin?.disconnect().catch(() => {})
    asg?.destroy()
    if (moto) await moto.stop()
    if (kafka) {
      say('stopping the Kafka broker...')
      await kafka.stop()
    }
  }

  onStop(stop)
  await ensureServicesInstalled()
  say('starting a local Kafka broker and moto (S3, Auto Scaling, EC2)...')
  ;[kafka, moto] = await Promise.all([startKafka(), startMoto()])
  if (stopping()) return
  asg = asgClient(moto.endpoint)
  await createMotoGroup(asg, moto.endpoint, group, { min: 1, max: 4, desired: 1 })
  rmSync(join(archiveDir, topic), { recursive: true, force: true })
  mkdirSync(archiveDir, { recursive: true })
  const logsDir = mkdtempSync(join(tmpdir(), 'kdp-demo-autoscale-'))
  launcher = startAsgLauncher({
    client: asg,
    group,
    logDir: logsDir,
    command: archiverOnMoto({
      brokers: kafka.bootstrap,
      cluster,
      group,
      moto: moto.endpoint,
      sink: pathToFileURL(archiveDir).href,
      token,
      statusInterval: '1s',
      // A few hundred records/s per node on a laptop: the peak needs two or three.
      maxMessagesInFlight: 20,
      env: process.env,
    }),
    onEvent: (event) => {
      if (event.what === 'started' || event.what === 'stopped' || event.what === 'exited') {
        status?.clear()
        say(`  launcher: instance ${event.instanceId} ${event.what}`)
      }
    },
  })
  const running = launcher
  const address = async (): Promise<string> => {
    for (;;) {
      const ready = [...running.running().values()].find((n) => n.address !== undefined)?.address
      if (ready !== undefined) return ready
      await sleep(250)
    }
  }
  const first = await address()
  const put = async (path: string, body: unknown) => {
    const response = await fetch(`${first}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    })
    if (!response.ok) say(`warning: PUT ${path} refused (${response.status}: ${await response.text()})`)
  }
  // Short intervals and cooldowns, so that a scaling cycle takes a few minutes, not an hour.
  await put('/scaling/config', {
    intervalMs: 2000,
    minNodes: 1,
    maxNodes: 4,
    targetLag: 4000,
    calmLag: 1000,
    // Three intervals (6 s) are longer than a file stays open (5 s, below): until the nodes report
    // their unread lag, the scaler reads the committed lag, which also counts open files.
    growingIntervals: 3,
    maxDrainMs: 30_000,
    maxStepOut: 1,
    calmIntervals: 8,
    scaleOutCooldownMs: 15_000,
    scaleInCooldownMs: 20_000,
    instanceRecordsPerSec: 350,
    cpuScaleOutPercent: 400,
    cpuScaleInPercent: 300,
  })
  await put(`/topics/${topic}/config`, {
    sinks: [{ id: 'default', url: pathToFileURL(join(archiveDir, topic)).href }],
    pathTemplate: 'dt={date}/hr={hour}/lang={$.lang}',
    time: { field: '$.timestamp_ms', format: 'epoch-ms', granularity: 'minute' },
    rotation: { maxRecords: 2000, maxAgeMs: 5000 },
  })
  admin = connectKafka({ brokers: kafka.brokers, clientId: 'kdp-demo', logger: silentLogger })
  await admin.ensureTopic({ topic, partitions })

  say('')
  say('kdp autoscaling demo is running')
  say(`  Kafka broker        ${kafka.bootstrap}`)
  say(`  moto                ${moto.endpoint} (Auto Scaling group ${group}, 1 to 4 instances)`)
  say(`  first node          ${first}   (every node serves the same API)`)
  say(`  load                ${ramp.map((r) => `${r.rate}/s for ${r.seconds} s`).join(', then ')}, repeated`)
  say(`  archive folder      ${archiveDir}/${topic}/`)
  say(`  node logs           ${logsDir}`)
  say('')
  say('Try:')
  say(`  curl ${first}/scaling          # the scaler's latest decision and its reason`)
  say(`  curl ${first}/scaling/config`)
  say(`  curl ${first}/processes        # where the tweets archivers run`)
  say('')

  const brokers = kafka.brokers
  const loadLogger = createLogger({ level: 'warn', name: 'loadgen' })
  let phase = ''
  let sentBefore = 0
  void (async () => {
    for (let cycle = 0; cycling; cycle++) {
      for (const step of ramp) {
        if (!cycling) return
        phase = `${step.rate}/s`
        if (step.rate === 0) {
          await sleep(step.seconds * 1000)
          continue
        }
        load = await startLoad(
          {
            brokers,
            topic,
            partitions,
            rate: step.rate,
            valueBytes: 300,
            keys: 1000,
            count: undefined,
            durationMs: step.seconds * 1000,
            seed: 42 + cycle,
          },
          loadLogger,
        )
        await load.done.catch(() => {})
        sentBefore += load.sent().records
        load = undefined
      }
    }
  })()

  let lag = 0
  let capacity = { desired: 1, inService: 1 }
  let decision = ''
  poll = setInterval(() => {
    void admin
      ?.groupLag(archiveGroupId(cluster, topic, 'default'), topic)
      .then((m) => {
        lag = [...m.values()].reduce((a, b) => a + b, 0)
      })
      .catch(() => {})
    void asg
      ?.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))
      .then((a) => {
        const g = a.AutoScalingGroups?.[0]
        capacity = {
          desired: g?.DesiredCapacity ?? 0,
          inService: (g?.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
        }
      })
      .catch(() => {})
    void address()
      .then((a) => fetch(`${a}/scaling`))
      .then((r) => r.json() as Promise<{ action: string; reason: string }>)
      .then((d) => {
        decision = `${d.action}: ${d.reason}`.slice(0, 70)
      })
      .catch(() => {})
  }, 2000)
  poll.unref()
  const meter = new RateMeter(3000)
  const started = performance.now()
  const render = (): string => {
    const sent = sentBefore + (load?.sent().records ?? 0)
    const up = [...running.running().values()].filter((n) => n.address !== undefined).length
    return (
      `load ${phase} (${formatCount(meter.sample(sent))}/s) | lag ${formatCount(lag)} | ` +
      `capacity ${capacity.desired} (${capacity.inService} in service, ${up} nodes up) | ${decision} | ` +
      `${Math.round((performance.now() - started) / 1000)} s`
    )
  }
  status = new StatusLine(process.stderr, render)
  if (process.stderr.isTTY) status.start()
  else {
    // Not a terminal (a log file, CI): the same line every 10 s.
    const every = setInterval(() => say(render()), 10_000)
    every.unref()
  }
}
