#!/usr/bin/env node
// `kdp-archiver`: runs one node of a kdp archiving cluster. See `kdp-archiver --help`.
import { ArchiveMetrics, createArchiverFactory } from '../processes/archiver/index.js'
import {
  type ArchiverNode,
  archiveMaxStopMs,
  nodeStopBoundMs,
  startArchiverNode,
} from '../processes/archiverNode.js'
import { instanceIdFromImds } from '../processes/scaler/instanceId.js'
import { openSink } from '../sinks/openSink.js'
import type { Sink } from '../sinks/sink.js'
import { messageOf } from '../util/errors.js'
import { createLogger, type Logger } from '../util/logging.js'
import { insecureWarning, kafkaSecrets, kafkaSecurity } from './kafkaSecurity.js'
import { type ArchiverCliOptions, describeOptions, parseCli, program } from './options.js'
import { checkBrokers, checkSink } from './preflight.js'
import { formatCount, formatMegabytesPerSecond, RateMeter, StatusLine } from './progress.js'
import { exitCodes, fail, keepSecret, onStopSignals, runCli, startupExitCode, startupProblem } from './run.js'

/** How long a graceful stop may take before the node gives up and exits 1: its bound plus a margin. */
const stopLimitMs = nodeStopBoundMs(archiveMaxStopMs) + 5000

/** A friendlier line for the errors a user can fix. */
function startupMessage(error: unknown, options: ArchiverCliOptions): string {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'EADDRINUSE') {
    return `the HTTP port ${options.httpPort} on ${options.httpHost} is already in use (choose another with --http-port, or 0 for any)`
  }
  if (code === 'EADDRNOTAVAIL')
    return `cannot bind the HTTP API to ${options.httpHost}: no such local address`
  if (code === 'EACCES') return `not allowed to bind the HTTP API to ${options.httpHost}:${options.httpPort}`
  return startupProblem(error)
}

function progressLine(metrics: ArchiveMetrics): () => string {
  const records = new RateMeter()
  const bytes = new RateMeter()
  return () => {
    const recordRate = records.sample(metrics.recordsArchived)
    const byteRate = bytes.sample(metrics.bytesArchived)
    return (
      `archived ${formatCount(recordRate)} rec/s, ${formatMegabytesPerSecond(byteRate)} | ` +
      `${formatCount(metrics.recordsArchived)} records in ${formatCount(metrics.filesWritten)} files | ` +
      `lag ${formatCount(metrics.lag())}` +
      (metrics.badRecords > 0 ? ` | ${formatCount(metrics.badRecords)} bad` : '') +
      (metrics.uploadFailures > 0 ? ` | ${formatCount(metrics.uploadFailures)} upload failures` : '')
    )
  }
}

async function run(options: ArchiverCliOptions): Promise<void> {
  const metrics = new ArchiveMetrics()
  const showProgress = options.progress && process.stderr.isTTY === true
  const status = showProgress ? new StatusLine(process.stderr, progressLine(metrics)) : undefined
  const baseLogger = createLogger({ level: options.logLevel, name: program })
  const logger: Logger = status ? status.wrap(baseLogger, options.logLevel) : baseLogger

  let node: ArchiverNode | undefined
  let archiver: ReturnType<typeof createArchiverFactory> | undefined
  let starting = false
  let stopping = false

  const stop = async (exitCode: number = exitCodes.ok): Promise<void> => {
    if (!node || stopping) return
    stopping = true
    status?.stop()
    process.stdout.write(`${program}: node ${node.nodeId} stopping (handing its work over)...\n`)
    const limit = setTimeout(
      () => fail(`${program}: the node did not stop within ${stopLimitMs / 1000} s`, exitCodes.failed),
      stopLimitMs,
    )
    try {
      await node.stop()
      await archiver?.close()
      await Promise.all([...sinks.values()].map((sink) => sink.close()))
    } catch (error) {
      fail(`${program}: stopping failed: ${messageOf(error)}`, exitCodes.failed)
    }
    clearTimeout(limit)
    process.stdout.write(`${program}: node ${node.nodeId} stopped.\n`)
    process.exit(exitCode)
  }
  // Before anything that needs a hand-over started, a signal leaves at once.
  const stopRequested = onStopSignals({
    canStop: () => starting,
    stop: () => void stop(),
    beforeExit: () => status?.stop(),
  })

  const sinks = new Map<string, Sink>()
  const sinkOf = (url: string): Sink => {
    let sink = sinks.get(url)
    if (!sink) {
      sink = openSink(url, { s3: options.s3 })
      sinks.set(url, sink)
    }
    return sink
  }

  keepSecret(options.token, ...kafkaSecrets(options.kafka))
  const kafka = kafkaSecurity(options.kafka)
  const insecure = insecureWarning(options.kafka)
  if (insecure !== undefined) logger.warn(insecure)
  try {
    await checkSink(sinkOf(options.sink), { warn: (message) => logger.warn(message) })
    await checkBrokers(options.brokers, kafka)
    // The scaler terminates a node's instance after draining it: the node must know which one it is.
    const instanceId =
      options.scaling.instanceId === 'imds'
        ? await instanceIdFromImds({ env: process.env })
        : options.scaling.instanceId
    starting = true
    archiver = createArchiverFactory({
      brokers: options.brokers,
      kafka,
      cluster: options.cluster,
      openSink: sinkOf,
      maxMessagesInFlight: options.maxMessagesInFlight,
      maxBytesInFlight: options.maxBytesInFlight,
      metrics,
      logger,
    })
    node = await startArchiverNode({
      brokers: options.brokers,
      kafka,
      cluster: options.cluster,
      ...(options.nodeId !== undefined && { nodeId: options.nodeId }),
      include: options.include,
      exclude: options.exclude,
      defaultSinks: [{ id: 'default', url: options.sink }],
      http: {
        host: options.httpHost,
        port: options.httpPort,
        corsOrigins: options.httpCorsOrigins,
        ...(options.token !== undefined && { token: options.token.reveal() }),
      },
      statusIntervalMs: options.statusIntervalMs,
      archiver,
      metrics,
      ...(instanceId !== undefined && { instanceId }),
      // The region and credentials are the AWS SDK's own (AWS_REGION, the instance role).
      ...(options.scaling.autoscaling && { autoscaling: options.scaling.autoscaling }),
      logger,
    })
  } catch (error) {
    status?.stop()
    fail(`${program}: ${startupMessage(error, options)}`, startupExitCode(error))
  }

  process.stdout.write(
    `${program}: node ${node.nodeId} running; HTTP API at ${node.httpAddress ?? '(none)'} (${describeOptions(options)})\n`,
  )
  if (stopRequested()) {
    // The signal came while the node was starting: stop() could not run then.
    await stop()
    return
  }
  status?.start()
  // A group that failed for good leaves the node running less than its share: stop, exit 1, and
  // let the supervisor start a fresh node.
  void node.failed.then((failure) => {
    process.stderr.write(`${program}: process group ${failure.group} failed: ${failure.error}\n`)
    void stop(exitCodes.failed)
  })
}

await runCli(parseCli(process.argv.slice(2), process.env), run)
