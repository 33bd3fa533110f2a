import { createRequire } from 'node:module'

interface RequestQueue {
  readonly pending: readonly unknown[]
  scheduleCheckPendingRequests(): void
}

const require = createRequire(import.meta.url)
let applied = false

/**
 * kafkajs 2.2.4 keeps a 1 ms timer loop running on every broker connection while nothing is queued
 * (RequestQueue.scheduleCheckPendingRequests arms setTimeout with a negative delay; upstream issues
 * #1556, #1604, #1704, unmerged fix #1667). That costs an idle node about 3 % CPU. With nothing
 * pending there is nothing to check — push() schedules a check when it queues a request — so we skip
 * the schedule then. Applied once, only to the exact kafkajs version this fix was written for.
 */
export function applyKafkajsIdleFix(): void {
  if (applied) return
  applied = true
  try {
    const { version } = require('kafkajs/package.json') as { version: string }
    if (version !== '2.2.4') return
    const queue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue }
    const original = queue.prototype.scheduleCheckPendingRequests
    if (typeof original !== 'function') return
    queue.prototype.scheduleCheckPendingRequests = function (this: RequestQueue): void {
      if (this.pending.length === 0) return
      original.call(this)
    }
  } catch {
    // A layout we do not know: leave kafkajs as it is.
  }
}
