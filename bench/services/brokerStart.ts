// Broker start time: startKafka() (storage format + JVM start + port open) to stop, 5 times; the
// median is reported. A 3-broker cluster is measured too. `npx tsx bench/services/brokerStart.ts [runs=5]`
import { startKafka } from '../../services/kafka.js'

const runs = Number(process.argv[2] ?? 5)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

for (const brokers of [1, 3] as const) {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    const kafka = await startKafka({ brokers })
    times.push(Math.round(performance.now() - started))
    await kafka.stop()
  }
  process.stdout.write(`${JSON.stringify({ brokers, runs, medianMs: median(times), timesMs: times })}\n`)
}
