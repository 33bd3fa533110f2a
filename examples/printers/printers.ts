// The KDP hello world: 20 processes, each printing its index every second, spread over every node
// that runs this program. Start it in two or three terminals and watch the indexes move when you
// start or stop (Ctrl-C) one of them.
//
//   npm run services                       # terminal 1: a local broker (prints its address)
//   KDP_BROKERS=127.0.0.1:PORT npm run example:printers   # terminals 2, 3, 4
import { createLogger, DistributedProcessing, type ProcessContext, sleep } from '../../src/index.js'

const brokers = (process.env.KDP_BROKERS ?? '127.0.0.1:9092').split(',')
const nodeId = process.env.KDP_NODE_ID ?? `printer-${process.pid}`

const processing = new DistributedProcessing({
  brokers,
  nodeId,
  topic: 'kdp-printers',
  partitions: 20,
  logger: createLogger({ level: 'warn' }),
})

const printers = Array.from({ length: 20 }, (_, index) => async (ctx: ProcessContext) => {
  console.log(`[${nodeId}] printer ${index} started (fencing token ${ctx.fencingToken})`)
  while (!ctx.signal.aborted) {
    // The ownership check guards the side effect: after a freeze it is false before anything runs.
    if (ctx.isOwner()) console.log(`[${nodeId}] ${index}`)
    await sleep(1000, ctx.signal)
  }
  console.log(`[${nodeId}] printer ${index} stopped`)
})

const handle = await processing.start('printers', printers)
console.log(`[${nodeId}] joined; Ctrl-C hands this node's printers over to the others`)

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    void handle.stop().then(() => process.exit(0))
  })
}
