// A real archiver node as its own OS process (file sink with a slowed-down put, so that kill -9
// lands in the middle of uploads). Prints its HTTP address when ready.

import { ArchiveMetrics, createArchiverFactory } from '../../../src/processes/archiver/index.js'
import { startArchiverNode } from '../../../src/processes/archiverNode.js'
import { openSink } from '../../../src/sinks/openSink.js'
import type { Sink } from '../../../src/sinks/sink.js'
import { createLogger } from '../../../src/util/logging.js'
import { sleep } from '../../../src/util/sleep.js'

const config = JSON.parse(process.env.KDP_TEST_ARCHIVE_NODE ?? '') as {
  brokers: string[]
  cluster: string
  nodeId: string
  slowPutMs: number
  /** Waits up to this long after a file is stored, before the commit (default 0). */
  slowAfterPutMs?: number
  /** S3 endpoint for s3:// sinks (a proxy the test can cut); default: none configured. */
  s3Endpoint?: string
  /** Node-wide in-flight bound in records (default 10,000): small, it makes memory cuts. */
  maxMessagesInFlight?: number
}
const logger = createLogger({ level: 'info' })
const slow = (inner: Sink): Sink => ({
  url: inner.url,
  put: async (key, body, metadata, signal) => {
    await sleep(Math.random() * config.slowPutMs)
    await inner.put(key, body, metadata, signal)
  },
  create: async (key, body, metadata, signal) => {
    await sleep(Math.random() * config.slowPutMs)
    const outcome = await inner.create(key, body, metadata, signal)
    // Stored but not committed yet for a while: kills land between the upload and the commit.
    if (config.slowAfterPutMs) await sleep(Math.random() * config.slowAfterPutMs)
    return outcome
  },
  list: (prefix) => inner.list(prefix),
  get: (key) => inner.get(key),
  close: () => inner.close(),
})
const archiver = createArchiverFactory({
  brokers: config.brokers,
  cluster: config.cluster,
  openSink: (url) =>
    slow(
      openSink(
        url,
        config.s3Endpoint === undefined
          ? {}
          : {
              s3: {
                endpoint: config.s3Endpoint,
                forcePathStyle: true,
                region: 'us-east-1',
                // moto accepts any credentials; fixed test values, not secrets.
                credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
                connectionTimeoutMs: 1000,
                requestTimeoutMs: 3000,
                maxAttempts: 1,
              },
            },
      ),
    ),
  maxMessagesInFlight: config.maxMessagesInFlight ?? 10_000,
  maxBytesInFlight: 16 * 2 ** 20,
  metrics: new ArchiveMetrics(),
  logger,
})
const node = await startArchiverNode({
  brokers: config.brokers,
  cluster: config.cluster,
  nodeId: config.nodeId,
  include: ['none-such'],
  defaultSinks: [],
  http: { token: 'exactly-once' },
  archiver,
  statusIntervalMs: 1000,
  partitions: 8,
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  maxStopMs: 1000,
  leaseMarginMs: 500,
  logger,
})
process.stdout.write(`${JSON.stringify({ ready: config.nodeId, http: node.httpAddress })}\n`)
process.once('SIGTERM', () => void node.stop().then(() => process.exit(0)))
