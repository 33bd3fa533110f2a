import { Worker } from 'node:worker_threads'

// Runs in its own thread so that it still acts when the main event loop is blocked (a process stuck
// in synchronous code): the main thread's own timers cannot fire then.
const workerSource = `
const { workerData } = require('node:worker_threads')
const { writeSync } = require('node:fs')
const shared = new Float64Array(workerData.buffer)
const sleeper = new Int32Array(new SharedArrayBuffer(4))
const now = () => Number(process.hrtime.bigint()) / 1e6
let last = now()
let expiredSince = null
while (shared[3] === 0) {
  Atomics.wait(sleeper, 0, 0, workerData.tickMs)
  const t = now()
  // A long gap means the whole process was frozen (SIGSTOP): the main thread gets its full grace again.
  if (t - last > workerData.tickMs * 5) expiredSince = null
  last = t
  if (shared[1] > 0 && t >= shared[0]) {
    if (expiredSince === null) expiredSince = t
    else if (t - expiredSince > shared[2]) {
      writeSync(2, JSON.stringify({ level: 60, time: Date.now(), name: 'kdp', group: workerData.group,
        msg: 'slices still live after the lease ran out and the stop grace passed (event loop blocked?): killing this node' }) + '\\n')
      process.kill(process.pid, 'SIGKILL')
    }
  } else {
    expiredSince = null
  }
}
`

/**
 * Last line of defence for the at-most-one guarantee: if slices are still live `graceMs` after the
 * lease ran out (measured while the process was running), it kills the node with SIGKILL from a
 * separate thread. The main thread normally stops everything long before.
 */
export class StallGuard {
  readonly #shared = new Float64Array(new SharedArrayBuffer(4 * Float64Array.BYTES_PER_ELEMENT))
  readonly #worker: Worker
  readonly #exited: Promise<void>

  constructor(group: string, graceMs: number, tickMs = 100) {
    this.#shared[0] = Number.NEGATIVE_INFINITY
    this.#shared[2] = graceMs
    this.#worker = new Worker(workerSource, {
      eval: true,
      workerData: { buffer: this.#shared.buffer, tickMs, group },
    })
    this.#worker.unref()
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()))
  }

  /** Publishes the lease deadline (monotonic ms) and how many slices are live. */
  update(leaseDeadline: number, liveSlices: number): void {
    this.#shared[0] = leaseDeadline
    this.#shared[1] = liveSlices
  }

  async stop(): Promise<void> {
    this.#shared[3] = 1
    await this.#exited
  }
}
