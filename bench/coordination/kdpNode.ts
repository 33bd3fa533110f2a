// A kdp node for the coordination benchmarks, run as its own OS process from compiled JS
// (dist/bench/bench/coordination/kdpNode.js). Every process sleeps until aborted and reports its
// start and stop; SIGTERM stops the handle (a clean handover) and exits.
import { createLogger, DistributedProcessing, type ProcessContext, sleep } from '../../src/index.js'
import { emit, type KdpNodeConfig, readConfig } from './protocol.js'

const config = readConfig<KdpNodeConfig>('kdp')
const node = config.nodeId
emit({ e: 'loaded', node, at: Date.now() })

const processes = Array.from({ length: config.processes }, (_, k) => async (ctx: ProcessContext) => {
  emit({ e: 'start', node, k, at: Date.now() })
  while (!ctx.signal.aborted) await sleep(60_000, ctx.signal)
  emit({ e: 'stop', node, k, at: Date.now() })
})

const processing = new DistributedProcessing({
  brokers: config.brokers,
  topic: config.topic,
  partitions: config.partitions,
  nodeId: node,
  sessionTimeoutMs: config.sessionTimeoutMs,
  heartbeatIntervalMs: config.heartbeatIntervalMs,
  maxStopMs: config.maxStopMs,
  leaseMarginMs: config.leaseMarginMs,
  // Logs go to stderr, kept per node with --keep-logs; KDP_LOG_LEVEL=info shows every assignment.
  logger: createLogger({ defaultLevel: 'warn' }),
})

const handle = await processing.start(config.group, processes)
emit({ e: 'ready', node, pid: process.pid, at: Date.now() })
process.once('SIGTERM', () => {
  void handle.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
