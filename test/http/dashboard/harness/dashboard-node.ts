// One kdp-archiver node as its own OS process, the way the CLI wires it (real archivers, a file sink,
// metrics given to both the archivers and the node), with a short status interval so that the
// dashboard tests see changes quickly. Prints its HTTP address when ready; SIGTERM stops it.
import { ArchiveMetrics, createArchiverFactory } from '../../../../src/processes/archiver/index.js'
import { startArchiverNode } from '../../../../src/processes/archiverNode.js'
import { openSink } from '../../../../src/sinks/openSink.js'
import { createLogger } from '../../../../src/util/logging.js'

const config = JSON.parse(process.env.KDP_TEST_DASHBOARD_NODE ?? '') as {
  brokers: string[]
  cluster: string
  nodeId: string
  sinkUrl: string
  token: string
}
const logger = createLogger({ level: 'warn' })
const metrics = new ArchiveMetrics()
const archiver = createArchiverFactory({
  brokers: config.brokers,
  cluster: config.cluster,
  openSink: (url) => openSink(url),
  maxMessagesInFlight: 10_000,
  maxBytesInFlight: 16 * 2 ** 20,
  metrics,
  logger,
})
const node = await startArchiverNode({
  brokers: config.brokers,
  cluster: config.cluster,
  nodeId: config.nodeId,
  // Topics get their config from the test: the suite's broker holds every other test's topics.
  include: ['none-such'],
  defaultSinks: [{ id: 'local', url: config.sinkUrl }],
  http: { token: config.token },
  archiver,
  metrics,
  statusIntervalMs: 1000,
  discoveryIntervalMs: 1000,
  partitions: 8,
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  maxStopMs: 1000,
  leaseMarginMs: 500,
  logger,
})
process.stdout.write(`${JSON.stringify({ ready: config.nodeId, http: node.httpAddress })}\n`)
process.once('SIGTERM', () => void node.stop().then(() => process.exit(0)))
