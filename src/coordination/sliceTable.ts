import type { Logger } from '../util/logging.js'
import { sleep } from '../util/sleep.js'
import type { Process, ProcessFailure, RunningProcess } from './process.js'

export type StopReason = 'revoked' | 'lease-lost' | 'leaving' | 'removed'

interface Instance {
  readonly key: string
  readonly process: Process
  readonly controller: AbortController
  done: Promise<void>
  ended: boolean
}

/** A partition's slice on this node: `waiting` to start (handover delay), `running`, or `stopping`. */
interface Slice {
  readonly partition: number
  readonly token: number
  state: 'waiting' | 'running' | 'stopping'
  readonly instances: Map<string, Instance>
  /** Instances removed from the set (or replaced) that have not settled yet: their key must not restart. */
  readonly retiring: Map<string, Promise<void>>
  stopped: Promise<void> | undefined
}

function waitingSlice(partition: number, token: number): Slice {
  return {
    partition,
    token,
    state: 'waiting',
    instances: new Map(),
    retiring: new Map(),
    stopped: undefined,
  }
}

export interface SliceHooks {
  readonly maxStopMs: number
  readonly logger: Logger
  /** The node's lease; checked synchronously before every start and by `ctx.isOwner()`. */
  isLeaseValid(): boolean
  onFailure(failure: ProcessFailure): void
  /** A slice has fully stopped (every instance settled); `ran`: it had started, not only waited. */
  onSliceStopped(partition: number, reason: StopReason, ran: boolean): void
  /** An instance did not settle within maxStopMs. Default policy: end the node. */
  onStuck(partition: number, key: string): void
  /** A single removed or replaced instance has settled; its key may start again. */
  onInstanceRetired(partition: number): void
  /** Called synchronously before any process code of a starting slice runs (it may never return). */
  onSliceActive(): void
}

/**
 * The slices live on this node and their process instances. Knows nothing of Kafka: the process
 * group decides what should run; this table starts and stops it, and bounds every stop.
 */
export class SliceTable {
  readonly #slices = new Map<number, Slice>()

  constructor(private readonly hooks: SliceHooks) {}

  has(partition: number): boolean {
    return this.#slices.has(partition)
  }

  state(partition: number): Slice['state'] | undefined {
    return this.#slices.get(partition)?.state
  }

  token(partition: number): number | undefined {
    return this.#slices.get(partition)?.token
  }

  /** Partitions whose slice is waiting, running or stopping: what this node must report as live. */
  live(): number[] {
    return [...this.#slices.keys()].sort((a, b) => a - b)
  }

  /** Slices with instances that may still execute (what the stall guard watches). */
  activeCount(): number {
    let n = 0
    for (const slice of this.#slices.values()) if (slice.state !== 'waiting') n++
    return n
  }

  running(): RunningProcess[] {
    const result: RunningProcess[] = []
    for (const slice of this.#slices.values()) {
      if (slice.state === 'waiting') continue
      for (const instance of slice.instances.values()) {
        if (instance.ended) continue
        result.push({
          key: instance.key,
          partition: slice.partition,
          fencingToken: slice.token,
          state: slice.state === 'stopping' || instance.controller.signal.aborted ? 'stopping' : 'running',
        })
      }
    }
    return result.sort((a, b) => a.partition - b.partition || a.key.localeCompare(b.key))
  }

  /** Reserves a slice that will start later; it is reported live from now on. */
  wait(partition: number, token: number): void {
    if (this.#slices.has(partition)) throw new Error(`slice ${partition} already exists`)
    this.#slices.set(partition, waitingSlice(partition, token))
  }

  /** Starts a waiting (or new) slice with `processes`, if the lease is still valid. */
  run(partition: number, token: number, processes: ReadonlyMap<string, Process>): void {
    let slice = this.#slices.get(partition)
    if (!slice) {
      slice = waitingSlice(partition, token)
      this.#slices.set(partition, slice)
    }
    if (slice.state !== 'waiting') throw new Error(`slice ${partition} is ${slice.state}, cannot start it`)
    if (!this.hooks.isLeaseValid()) return
    slice.state = 'running'
    this.hooks.onSliceActive()
    this.sync(partition, processes)
  }

  /** Makes a running slice's instances match `processes`: starts new keys, stops removed ones. */
  sync(partition: number, processes: ReadonlyMap<string, Process>): void {
    const slice = this.#slices.get(partition)
    if (slice?.state !== 'running') return
    for (const [key, instance] of slice.instances) {
      if (processes.get(key) === instance.process) continue
      slice.instances.delete(key)
      if (instance.ended) continue
      const retired = this.#stopInstance(slice, instance).then(() => {
        slice.retiring.delete(key)
        this.hooks.onInstanceRetired(slice.partition)
      })
      slice.retiring.set(key, retired)
    }
    for (const [key, process] of processes) {
      if (slice.instances.has(key) || slice.retiring.has(key)) continue
      if (!this.hooks.isLeaseValid()) return
      slice.instances.set(key, this.#startInstance(slice, key, process))
    }
  }

  /** Stops a slice (idempotent); resolves once every instance has settled. */
  stop(partition: number, reason: StopReason): Promise<void> {
    const slice = this.#slices.get(partition)
    if (!slice) return Promise.resolve()
    if (slice.stopped) return slice.stopped
    const wasWaiting = slice.state === 'waiting'
    slice.state = 'stopping'
    const instances = [...slice.instances.values()]
    const began = performance.now()
    const stops = [...instances.map((i) => this.#stopInstance(slice, i)), ...slice.retiring.values()]
    slice.stopped = Promise.all(stops).then(() => {
      this.#slices.delete(partition)
      // How long its processes took to settle: what maxStopMs must cover, with room to spare.
      const stopMs = Math.round(performance.now() - began)
      if (!wasWaiting)
        this.hooks.logger.info('slice stopped', { partition, reason, processes: instances.length, stopMs })
      this.hooks.onSliceStopped(partition, reason, !wasWaiting)
    })
    return slice.stopped
  }

  stopAll(reason: StopReason): Promise<void> {
    return Promise.all(this.live().map((p) => this.stop(p, reason))).then(() => undefined)
  }

  #startInstance(slice: Slice, key: string, process: Process): Instance {
    const controller = new AbortController()
    const { signal } = controller
    const logger = this.hooks.logger.child({ partition: slice.partition, key })
    const instance: Instance = { key, process, controller, done: Promise.resolve(), ended: false }
    const ctx = {
      signal,
      partition: slice.partition,
      key,
      fencingToken: slice.token,
      logger,
      isOwner: () => !signal.aborted && this.hooks.isLeaseValid(),
      sleep: (ms: number) => sleep(ms, signal),
      maxStopMs: this.hooks.maxStopMs,
    }
    let started: Promise<void>
    try {
      started = process(ctx)
    } catch (error) {
      started = Promise.reject(error)
    }
    instance.done = Promise.resolve(started).then(
      () => {
        if (!signal.aborted) logger.info('process ended by itself')
      },
      (error: unknown) => {
        if (signal.aborted)
          logger.debug('process settled with an error after abort', { error: String(error) })
        else {
          logger.error('process failed', { error: error instanceof Error ? error.message : String(error) })
          this.hooks.onFailure({ key, partition: slice.partition, error })
        }
      },
    )
    void instance.done.finally(() => {
      instance.ended = true
    })
    return instance
  }

  async #stopInstance(slice: Slice, instance: Instance): Promise<void> {
    instance.controller.abort(new Error(`slice ${slice.partition} stopping`))
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.hooks.maxStopMs)
    })
    const outcome = await Promise.race([instance.done.then(() => 'done' as const), timedOut])
    clearTimeout(timer)
    if (outcome === 'timeout') {
      this.hooks.onStuck(slice.partition, instance.key)
      await instance.done
    }
  }
}
