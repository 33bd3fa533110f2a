// `npm run services`: a real Kafka broker and moto on loopback until Ctrl-C.
import { parseArgs } from 'node:util'
import { ensureServicesInstalled } from './install.js'
import { startKafka } from './kafka.js'
import { startMoto } from './moto.js'

const usage = `Usage: npm run services [-- --brokers 1|3]

Starts a real Apache Kafka (KRaft) and moto (S3, Auto Scaling, EC2) on 127.0.0.1 and prints their
addresses; Ctrl-C stops both and deletes their data.`

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage}\n`)
  process.exit(2)
}

let brokers: 1 | 3 = 1
try {
  const { values } = parseArgs({
    options: { brokers: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  })
  if (values.help) {
    process.stdout.write(`${usage}\n`)
    process.exit(0)
  }
  if (values.brokers !== undefined) {
    if (values.brokers !== '1' && values.brokers !== '3')
      fail(`--brokers must be 1 or 3, got '${values.brokers}'`)
    brokers = values.brokers === '3' ? 3 : 1
  }
} catch (error) {
  fail(error instanceof Error ? error.message : String(error))
}

await ensureServicesInstalled()
const started = performance.now()
const [kafka, moto] = await Promise.all([startKafka({ brokers }), startMoto()])
process.stdout.write(
  `Kafka brokers: ${kafka.bootstrap}\n` +
    `moto (S3, Auto Scaling, EC2): ${moto.endpoint}\n` +
    `started in ${Math.round(performance.now() - started)} ms; data in ${kafka.dir}. Ctrl-C to stop.\n`,
)

let stopping = false
const shutdown = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  process.stdout.write('stopping...\n')
  await Promise.all([kafka.stop(), moto.stop()])
  process.stdout.write('stopped.\n')
  process.exit(0)
}
process.on('SIGINT', () => void shutdown())
process.on('SIGTERM', () => void shutdown())
