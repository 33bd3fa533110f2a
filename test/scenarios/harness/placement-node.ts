// An archiver-cluster node as its own OS process, for the master failover test. Its archivers are
// stand-ins that write START lines to a journal; the node prints its HTTP address when ready.
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { startArchiverNode } from '../../../src/processes/archiverNode.js'
import type { ArchiverFactory } from '../../../src/processes/archiverSet.js'
import { createLogger } from '../../../src/util/logging.js'
import { sleep } from '../../../src/util/sleep.js'

const config = JSON.parse(process.env.KDP_TEST_ARCHIVER_NODE ?? '') as {
  brokers: string[]
  cluster: string
  nodeId: string
  dir: string
  include: string[]
}
const journal = join(config.dir, `journal-${config.nodeId}.log`)
const archiver: ArchiverFactory = (topicConfig, sink, index) => async (ctx) => {
  appendFileSync(
    journal,
    `START ${topicConfig.topic}|${sink.id}|${index} ${config.nodeId} ${ctx.fencingToken} ${Date.now()}\n`,
  )
  while (!ctx.signal.aborted) await sleep(1000, ctx.signal)
}
const node = await startArchiverNode({
  brokers: config.brokers,
  cluster: config.cluster,
  nodeId: config.nodeId,
  include: config.include,
  defaultSinks: [{ id: 'local', url: 'file:///tmp/kdp-failover' }],
  http: { token: 'failover-test' },
  archiver,
  statusIntervalMs: 500,
  discoveryIntervalMs: 500,
  partitions: 8,
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  maxStopMs: 1000,
  leaseMarginMs: 500,
  logger: createLogger({ level: 'info' }),
})
process.stdout.write(`${JSON.stringify({ ready: config.nodeId, http: node.httpAddress })}\n`)
process.once('SIGTERM', () => void node.stop().then(() => process.exit(0)))
