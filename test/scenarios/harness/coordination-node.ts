// One cluster node for the failure tests, run as its own OS process. Every test process works in
// short synchronous steps guarded by an exclusive lock file per process id (O_CREAT|O_EXCL), and
// writes each step, start and violation to this node's journal for the controller to check.
import { appendFileSync, closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, DistributedProcessing, type ProcessContext, sleep } from '../../../src/index.js'

interface NodeConfig {
  brokers: string[]
  group: string
  topic: string
  partitions: number
  processes: number
  nodeId: string
  dir: string
  stepMs: number
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  maxStopMs: number
  leaseMarginMs: number
}

const config = JSON.parse(process.env.KDP_TEST_NODE ?? '') as NodeConfig
const journal = join(config.dir, `journal-${config.nodeId}.log`)

function record(line: string): void {
  appendFileSync(journal, `${line}\n`)
}

/** 'alive' | 'stopped' (SIGSTOP: state T) | 'dead', from /proc. */
function stateOf(pid: number): 'alive' | 'stopped' | 'dead' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    if (state === 'Z' || state === 'X') return 'dead'
    return state === 'T' || state === 't' ? 'stopped' : 'alive'
  } catch {
    return 'dead'
  }
}

/** One step, all synchronous: ownership check, lock, journal line, unlock. */
function step(index: number, ctx: ProcessContext): void {
  const startedAt = Date.now()
  if (!ctx.isOwner()) return
  const lock = join(config.dir, `p${index}.lock`)
  let fd: number
  try {
    fd = openSync(lock, 'wx')
  } catch {
    let holder = Number.NaN
    try {
      holder = Number(readFileSync(lock, 'utf8'))
    } catch {
      return // released between our take and our read: a benign race, try next step
    }
    const state = Number.isNaN(holder) ? 'alive' : stateOf(holder)
    if (state === 'dead') {
      // A killed holder cannot release; an OS lock would have been released with it.
      try {
        unlinkSync(lock)
      } catch {}
      return
    }
    // A holder frozen mid-step is the in-flight write no lease can stop; anything else is two at once.
    record(
      `${state === 'stopped' ? 'FROZEN-HOLDER' : 'VIOLATION'} ${index} ${config.nodeId} ${ctx.fencingToken} ${startedAt} holder=${holder}`,
    )
    return
  }
  writeSync(fd, String(process.pid))
  closeSync(fd)
  record(`STEP ${index} ${config.nodeId} ${ctx.fencingToken} ${startedAt}`)
  unlinkSync(lock)
}

const processes = Array.from({ length: config.processes }, (_, index) => async (ctx: ProcessContext) => {
  record(`START ${index} ${config.nodeId} ${ctx.fencingToken} ${Date.now()}`)
  while (!ctx.signal.aborted) {
    step(index, ctx)
    await sleep(config.stepMs, ctx.signal)
  }
  record(`STOP ${index} ${config.nodeId} ${ctx.fencingToken} ${Date.now()}`)
})

const processing = new DistributedProcessing({
  brokers: config.brokers,
  topic: config.topic,
  partitions: config.partitions,
  nodeId: config.nodeId,
  sessionTimeoutMs: config.sessionTimeoutMs,
  heartbeatIntervalMs: config.heartbeatIntervalMs,
  maxStopMs: config.maxStopMs,
  leaseMarginMs: config.leaseMarginMs,
  logger: createLogger({ level: (process.env.KDP_LOG_LEVEL as 'info' | undefined) ?? 'info' }),
})
const handle = await processing.start(config.group, processes)
process.stdout.write(`${JSON.stringify({ ready: config.nodeId, pid: process.pid })}\n`)
process.once('SIGTERM', () => {
  void handle.stop().then(() => {
    record(`LEFT - ${config.nodeId} - ${Date.now()}`)
    process.exit(0)
  })
})
