// One cluster node for the failure scenarios, run as its own OS process. Every process journals its
// START, each STEP (a side effect, taken only after `ctx.isOwner()`) and its STOP with the
// machine-wide monotonic clock; once asked to stop it keeps working (without side effects) for a
// random part of maxStop, as a real process finishing its work would. See journal.ts for the check.
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { monotonicMs } from '../../../src/coordination/lease.js'
import { createLogger, DistributedProcessing, type ProcessContext, sleep } from '../../../src/index.js'

export interface NodeConfig {
  brokers: string[]
  group: string
  topic: string
  partitions: number
  processes: number
  nodeId: string
  dir: string
  stepMs: number
  sessionTimeoutMs: number
  rebalanceTimeoutMs?: number
  heartbeatIntervalMs: number
  maxStopMs: number
  leaseMarginMs: number
  /** A rolling deploy that inserted one process at index 0: every other process moves one index up. */
  insertFirst?: boolean
  /** The technical topic was grown and this node slices by another partition count. */
  partitionsOverride?: number
}

const config = JSON.parse(process.env.KDP_TEST_NODE ?? '') as NodeConfig
const journal = join(config.dir, `journal-${config.nodeId}.log`)
let instances = 0

function record(kind: 'START' | 'STEP' | 'STOP', logical: number, instance: string, token: number): void {
  appendFileSync(
    journal,
    `${kind} ${logical} ${config.nodeId} ${instance} ${token} ${monotonicMs().toFixed(3)}\n`,
  )
}

/** Process `logical` of the test: logical ids are the same on every node whatever its list looks like. */
const worker = (logical: number) => async (ctx: ProcessContext) => {
  const instance = `${process.pid}.${++instances}`
  record('START', logical, instance, ctx.fencingToken)
  while (!ctx.signal.aborted) {
    if (ctx.isOwner()) record('STEP', logical, instance, ctx.fencingToken)
    await ctx.sleep(config.stepMs)
  }
  // Finishing up: alive but without side effects, for up to 60 % of maxStop.
  await sleep(Math.random() * config.maxStopMs * 0.6)
  record('STOP', logical, instance, ctx.fencingToken)
}

const base = Array.from({ length: config.processes }, (_, i) => worker(i))
// The inserted process is logical id `processes` (outside the range the scenarios check).
const list = config.insertFirst ? [worker(config.processes), ...base] : base

const processing = new DistributedProcessing({
  brokers: config.brokers,
  topic: config.topic,
  partitions: config.partitionsOverride ?? config.partitions,
  nodeId: config.nodeId,
  sessionTimeoutMs: config.sessionTimeoutMs,
  ...(config.rebalanceTimeoutMs !== undefined && { rebalanceTimeoutMs: config.rebalanceTimeoutMs }),
  heartbeatIntervalMs: config.heartbeatIntervalMs,
  maxStopMs: config.maxStopMs,
  leaseMarginMs: config.leaseMarginMs,
  logger: createLogger(),
})
// The fingerprint of a list includes its processes' source, which is the same here for every
// worker: a version names the list's layout instead, as a deploy that changes it would.
const handle = await processing.start(config.group, list, {
  listVersion: config.insertFirst ? 'inserted-first' : 'base',
})
process.stdout.write(`${JSON.stringify({ ready: config.nodeId, pid: process.pid })}\n`)
process.once('SIGTERM', () => {
  void handle.stop().then(() => process.exit(0))
})
