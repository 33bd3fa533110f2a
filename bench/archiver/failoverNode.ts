// One archive node for bench/archiver/failover.ts, as its own OS process: the archive cluster's
// defaults (placement session 10 s, maxStop 5 s) with a file sink; only the archive groups' session
// comes from the controller. Prints {"ready": nodeId, "http": address} once it serves.
import { ArchiveMetrics, createArchiverFactory } from '../../src/processes/archiver/index.js'
import { startArchiverNode } from '../../src/processes/archiverNode.js'
import { openSink } from '../../src/sinks/openSink.js'
import { createLogger } from '../../src/util/logging.js'

const config = JSON.parse(process.env.KDP_BENCH_FAILOVER_NODE ?? '') as {
  brokers: string[]
  cluster: string
  nodeId: string
  token: string
  archiveSessionTimeoutMs: number
}
const logger = createLogger({ defaultLevel: 'warn' })
const metrics = new ArchiveMetrics()
const archiver = createArchiverFactory({
  brokers: config.brokers,
  cluster: config.cluster,
  openSink: (url) => openSink(url, {}),
  maxMessagesInFlight: 100_000,
  maxBytesInFlight: 256 * 2 ** 20,
  metrics,
  logger,
  archiveSessionTimeoutMs: config.archiveSessionTimeoutMs,
})
const node = await startArchiverNode({
  brokers: config.brokers,
  cluster: config.cluster,
  nodeId: config.nodeId,
  include: ['none-such'],
  defaultSinks: [],
  http: { token: config.token },
  archiver,
  metrics,
  statusIntervalMs: 1000,
  logger,
})
process.stdout.write(`${JSON.stringify({ ready: config.nodeId, http: node.httpAddress })}\n`)
process.once('SIGTERM', () => void node.stop().then(() => process.exit(0)))
