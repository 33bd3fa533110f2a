// A node whose single process misbehaves on purpose, to check that the node ends itself:
//   KDP_MISBEHAVE=ignore-abort  the process never settles after its abort (exit code 70 expected)
//   KDP_MISBEHAVE=block-loop    the process blocks the event loop for good (SIGKILL by the stall guard)
import { DistributedProcessing, type ProcessContext, silentLogger } from '../../../src/index.js'

const mode = process.env.KDP_MISBEHAVE
const processing = new DistributedProcessing({
  brokers: (process.env.KDP_BROKERS ?? '').split(','),
  topic: process.env.KDP_TOPIC ?? 'kdp-misbehave',
  partitions: 1,
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  maxStopMs: 1000,
  leaseMarginMs: 500,
  logger: silentLogger,
})
const misbehaving = async (ctx: ProcessContext): Promise<void> => {
  process.stdout.write('running\n')
  if (mode === 'block-loop') {
    const end = Date.now() + 120_000
    while (Date.now() < end) {} // never yields: no timer, no heartbeat, no abort can run here
  }
  await new Promise<void>(() => {}) // ignores ctx.signal
  void ctx
}
const handle = await processing.start(process.env.KDP_GROUP ?? 'misbehave', [misbehaving])
process.stdin.on('data', () => void handle.stop())
