#!/usr/bin/env node
import { insecureWarning, kafkaSecrets, kafkaSecurity } from '../cli/kafkaSecurity.js'
// `kdp-loadgen`: fake tweets to a Kafka topic at a given rate. See `kdp-loadgen --help`.
import { checkBrokers } from '../cli/preflight.js'
import { formatCount, formatMegabytesPerSecond, RateMeter, StatusLine } from '../cli/progress.js'
import {
  exitCodes,
  fail,
  keepSecret,
  onStopSignals,
  runCli,
  startupExitCode,
  startupProblem,
} from '../cli/run.js'
import { messageOf } from '../util/errors.js'
import { createLogger } from '../util/logging.js'
import { type LoadgenCliOptions, loadgenProgram, parseLoadgenCli } from './cli.js'
import { type Load, startLoad } from './load.js'

const program = loadgenProgram.name

async function run(options: LoadgenCliOptions): Promise<void> {
  const started = performance.now()
  let load: Load | undefined
  const records = new RateMeter(3000)
  const bytes = new RateMeter(3000)
  const target = options.rate === 0 ? 'max' : formatCount(options.rate)
  const status =
    options.progress && process.stderr.isTTY === true
      ? new StatusLine(process.stderr, () => {
          const sent = load?.sent() ?? { records: 0, bytes: 0 }
          const seconds = Math.round((performance.now() - started) / 1000)
          return (
            `sent ${formatCount(sent.records)} records | ${formatCount(records.sample(sent.records))} rec/s ` +
            `(target ${target}) | ${formatMegabytesPerSecond(bytes.sample(sent.bytes))} | ${seconds} s`
          )
        })
      : undefined
  const baseLogger = createLogger({ level: 'warn', name: program })
  const logger = status ? status.wrap(baseLogger, 'warn') : baseLogger

  // The first signal ends the load after the batch in flight; `load.done` then settles below.
  onStopSignals({
    canStop: () => load !== undefined,
    stop: () => void load?.stop(),
    beforeExit: () => status?.stop(),
  })

  try {
    keepSecret(...kafkaSecrets(options.kafka))
    const kafka = kafkaSecurity(options.kafka)
    const insecure = insecureWarning(options.kafka)
    if (insecure !== undefined) logger.warn(insecure)
    await checkBrokers(options.brokers, kafka)
    load = await startLoad({ ...options, kafka }, logger)
  } catch (error) {
    fail(`${program}: ${startupProblem(error)}`, startupExitCode(error))
  }
  const limits = [
    ...(options.count !== undefined ? [`${formatCount(options.count)} records`] : []),
    ...(options.durationMs !== undefined ? [`${options.durationMs / 1000} s`] : []),
  ]
  process.stdout.write(
    `${program}: producing fake tweets to ${options.topic} (${load.partitions} partitions${load.created ? ', created' : ''}) ` +
      `at ${options.rate === 0 ? 'full speed' : `${formatCount(options.rate)} records/s`}, ${formatCount(options.valueBytes)} bytes each, ` +
      `${formatCount(options.keys)} keys, seed ${options.seed}; ` +
      `${limits.length > 0 ? `until ${limits.join(' or ')}` : 'until Ctrl-C'}\n`,
  )
  status?.start()
  try {
    await load.done
  } catch (error) {
    status?.stop()
    fail(`${program}: producing failed: ${messageOf(error)}`, exitCodes.failed)
  }
  status?.stop()
  const sent = load.sent()
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(
    `${program}: sent ${formatCount(sent.records)} records (${formatCount(sent.bytes)} bytes) to ${options.topic} in ${seconds.toFixed(1)} s\n`,
  )
  process.exit(exitCodes.ok)
}

await runCli(parseLoadgenCli(process.argv.slice(2), process.env), run)
