// Bench-only experiment, loaded with `node --import` into a node process: the fix proposed in
// tulios/kafkajs#1667 for kafkajs 2.2.4's idle CPU bug (#1556, #1604, #1704). With no queued request
// and no throttling, RequestQueue.scheduleCheckPendingRequests arms setTimeout with a negative delay,
// so every broker connection runs a 1 ms timer loop forever. push() already schedules a check when it
// queues a request, so a queue with nothing pending need not schedule anything.
import { createRequire } from 'node:module'

interface RequestQueue {
  readonly pending: readonly unknown[]
  scheduleCheckPendingRequests(): void
}

const require = createRequire(import.meta.url)
const queueClass = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue }
const original = queueClass.prototype.scheduleCheckPendingRequests
queueClass.prototype.scheduleCheckPendingRequests = function (this: RequestQueue): void {
  if (this.pending.length === 0) return
  original.call(this)
}
