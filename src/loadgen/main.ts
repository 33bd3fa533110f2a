#!/usr/bin/env node
import { checkBrokers, StartupError } from '../cli/preflight.js'
import { formatCount, formatMegabytesPerSecond, RateMeter, StatusLine } from '../cli/progress.js'
import { packageVersion } from '../cli/version.js'
import { messageOf } from '../util/errors.js'
// `npm run loadgen`: fake tweets to a Kafka topic at a given rate. See `npm run loadgen -- --help`.
import { createLogger } from '../util/logging.js'
import { type Load, type LoadgenCliOptions, loadgenProgram, parseLoadgenCli, startLoad } from './load.js'

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

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
  const baseLogger = createLogger({ level: 'warn', name: loadgenProgram })
  const logger = status ? status.wrap(baseLogger, 'warn') : baseLogger

  let stopRequested = false
  const onSignal = (): void => {
    if (stopRequested || !load) {
      status?.stop()
      process.exit(130)
    }
    stopRequested = true
    void load.stop()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    await checkBrokers(options.brokers)
    load = await startLoad(options, logger)
  } catch (error) {
    fail(
      `${loadgenProgram}: ${error instanceof StartupError ? error.message : `could not start: ${messageOf(error)}`}`,
      1,
    )
  }
  const limits = [
    ...(options.count !== undefined ? [`${formatCount(options.count)} records`] : []),
    ...(options.durationMs !== undefined ? [`${options.durationMs / 1000} s`] : []),
  ]
  process.stdout.write(
    `${loadgenProgram}: producing fake tweets to ${options.topic} (${load.partitions} partitions${load.created ? ', created' : ''}) ` +
      `at ${options.rate === 0 ? 'full speed' : `${formatCount(options.rate)} records/s`}, ${formatCount(options.valueBytes)} bytes each, ` +
      `${formatCount(options.keys)} keys, seed ${options.seed}; ` +
      `${limits.length > 0 ? `until ${limits.join(' or ')}` : 'until Ctrl-C'}\n`,
  )
  status?.start()
  try {
    await load.done
  } catch (error) {
    status?.stop()
    fail(`${loadgenProgram}: producing failed: ${messageOf(error)}`, 1)
  }
  status?.stop()
  const sent = load.sent()
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(
    `${loadgenProgram}: sent ${formatCount(sent.records)} records (${formatCount(sent.bytes)} bytes) to ${options.topic} in ${seconds.toFixed(1)} s\n`,
  )
  process.exit(0)
}

const result = parseLoadgenCli(process.argv.slice(2), process.env)
switch (result.kind) {
  case 'help':
    process.stdout.write(result.text)
    break
  case 'version':
    process.stdout.write(`${loadgenProgram} (kdp) ${packageVersion()}\n`)
    break
  case 'error':
    fail(result.message, 2)
    break
  case 'run':
    await run(result.options)
    break
}
