import { availableParallelism } from 'node:os'
import { type Transferable, Worker } from 'node:worker_threads'

/** What a pool runs: a CommonJS worker that answers each job with `{ result }` or `{ error }`. */
export interface WorkerPoolOptions<R> {
  /** For errors: `the ${name} workers are closed`. */
  readonly name: string
  /**
   * The worker's source (CommonJS, run with `eval`: the same in the sources run by tsx and in
   * dist). It answers each message with `{ result }` or `{ error: string }`.
   */
  readonly source: string
  readonly workerData?: () => unknown
  /** Threads at most (default: the cores but one, 1 to 4). */
  readonly size?: number
  /** The result from a worker's `result`, or undefined when it is not one (the worker is then replaced). */
  readonly decode: (result: unknown) => R | undefined
}

interface Task<J, R> {
  readonly job: J
  readonly transfer: readonly Transferable[]
  resolve(result: R): void
  reject(error: Error): void
}

/** The default size of a pool: the cores but one (the event loop has one), 1 to 4. */
export const defaultWorkerThreads = (): number => Math.max(1, Math.min(4, availableParallelism() - 1))

/**
 * Up to `size` worker threads, each running one job at a time: started on first use, never holding
 * the process open when idle, ended by `close()`.
 */
export class WorkerPool<J, R> {
  readonly size: number
  readonly #idle: Worker[] = []
  readonly #queue: Task<J, R>[] = []
  readonly #all = new Set<Worker>()
  #started = 0
  #closed = false

  constructor(private readonly o: WorkerPoolOptions<R>) {
    this.size = o.size ?? defaultWorkerThreads()
  }

  /** Worker threads alive now. */
  get threads(): number {
    return this.#all.size
  }

  /** Runs `job` on the next free thread; `transfer` is moved to it, not copied. */
  run(job: J, transfer: readonly Transferable[] = []): Promise<R> {
    if (this.#closed) return Promise.reject(new Error(`the ${this.o.name} workers are closed`))
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, transfer, resolve, reject })
      this.#next()
    })
  }

  #next(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop()
      if (worker === undefined) {
        if (this.#started >= this.size) return
        worker = new Worker(this.o.source, { eval: true, workerData: this.o.workerData?.() })
        this.#all.add(worker)
        this.#started++
      }
      const task = this.#queue.shift()
      if (task !== undefined) this.#run(worker, task)
    }
  }

  #run(worker: Worker, task: Task<J, R>): void {
    worker.ref()
    const settle = (outcome: { ok: R } | { error: Error }, healthy: boolean) => {
      worker.off('message', onMessage)
      worker.off('error', onError)
      worker.off('exit', onExit)
      if (healthy) {
        worker.unref()
        this.#idle.push(worker)
      } else {
        this.#started--
        this.#all.delete(worker)
        void worker.terminate()
      }
      if ('ok' in outcome) task.resolve(outcome.ok)
      else task.reject(outcome.error)
      this.#next()
    }
    const onMessage = (message: unknown) => {
      const error =
        typeof message === 'object' && message !== null && 'error' in message ? message.error : undefined
      if (typeof error === 'string')
        return settle({ error: new Error(`${this.o.name} worker: ${error}`) }, true)
      const result =
        typeof message === 'object' && message !== null && 'result' in message
          ? this.o.decode(message.result)
          : undefined
      if (result === undefined)
        settle({ error: new Error(`unexpected message from a ${this.o.name} worker`) }, false)
      else settle({ ok: result }, true)
    }
    const onError = (error: Error) => settle({ error }, false)
    const onExit = (code: number) =>
      settle({ error: new Error(`a ${this.o.name} worker exited (${code})`) }, false)
    worker.on('message', onMessage)
    worker.once('error', onError)
    worker.once('exit', onExit)
    worker.postMessage(task.job, [...task.transfer])
  }

  /** Ends every worker (a job under way fails) and refuses new work; resolves once they exited. */
  async close(): Promise<void> {
    this.#closed = true
    for (const task of this.#queue.splice(0)) task.reject(new Error(`the ${this.o.name} workers are closed`))
    const workers = [...this.#all]
    this.#all.clear()
    this.#idle.length = 0
    await Promise.all(workers.map((worker) => worker.terminate()))
  }
}
