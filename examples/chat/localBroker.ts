// A local Kafka broker for `npm run example:chat`, in a process group of its own: Ctrl-C in the
// terminal reaches the chat nodes (which hand their shards over) but not the broker, which must
// outlive them. Prints {"bootstrap"} when ready; stops the broker when its stdin closes (the parent
// exited, whatever the way) or on SIGTERM.
import { startKafka } from '../../services/kafka.js'

const kafka = await startKafka()
process.stdout.write(`${JSON.stringify({ bootstrap: kafka.bootstrap })}\n`)
let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  void kafka.stop().finally(() => process.exit(0))
}
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
process.on('SIGINT', () => {}) // only the parent decides when the broker goes
