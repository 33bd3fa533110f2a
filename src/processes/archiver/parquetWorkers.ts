import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { ParquetJob } from './parquetFiles.js'

// Runs in each worker (CommonJS, from a string: the same in the sources run by tsx and in dist).
// A JSON column's text is parsed again and handed over in a holder without a prototype: the writer
// passes it as it is (it copies plain objects key by key, which would drop a `__proto__` key), and
// JSON.stringify writes what its toJSON returns: exactly the text.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads')
const zlib = require('node:zlib')
const loaded = import(workerData.writer)
function jsonValue(text) {
  if (text === null) return null
  const holder = Object.create(null)
  holder.toJSON = () => JSON.parse(text)
  return holder
}
parentPort.on('message', (job) => {
  loaded
    .then(({ parquetWriteBuffer }) => {
      const columnData = job.columns.map((c) => ({ name: c.name, data: c.json ? c.data.map(jsonValue) : c.data }))
      const compressors = { GZIP: (input) => zlib.gzipSync(input, { level: job.levels.gzip }) }
      if (typeof zlib.zstdCompressSync === 'function')
        compressors.ZSTD = (input) =>
          zlib.zstdCompressSync(input, { params: { [zlib.constants.ZSTD_c_compressionLevel]: job.levels.zstd } })
      const body = new Uint8Array(
        parquetWriteBuffer({ columnData, schema: job.schema, codec: job.codec, compressors, createdBy: job.createdBy }),
      )
      parentPort.postMessage({ body }, [body.buffer])
    })
    .catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }))
})
`

interface Task {
  readonly job: ParquetJob
  resolve(body: Buffer): void
  reject(error: Error): void
}

function isResult(message: unknown): message is { body: Uint8Array } | { error: string } {
  return (
    typeof message === 'object' &&
    message !== null &&
    (('body' in message && message.body instanceof Uint8Array) ||
      ('error' in message && typeof message.error === 'string'))
  )
}

/**
 * Up to `size` worker threads, each writing one file at a time: started on first use, never holding
 * the process open when idle, ended by `close()`. One per archiver factory (a node), shared by its
 * archivers.
 */
export class ParquetWorkers {
  readonly #idle: Worker[] = []
  readonly #queue: Task[] = []
  readonly #all = new Set<Worker>()
  #started = 0
  #closed = false

  constructor(readonly size: number = Math.max(1, Math.min(4, availableParallelism() - 1))) {}

  /** Worker threads alive now. */
  get threads(): number {
    return this.#all.size
  }

  encode(job: ParquetJob): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new Error('the Parquet workers are closed'))
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, resolve, reject })
      this.#next()
    })
  }

  #next(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop()
      if (worker === undefined) {
        if (this.#started >= this.size) return
        worker = new Worker(workerSource, { eval: true, workerData: { writer: writerUrl() } })
        this.#all.add(worker)
        this.#started++
      }
      const task = this.#queue.shift()
      if (task !== undefined) this.#run(worker, task)
    }
  }

  #run(worker: Worker, task: Task): void {
    worker.ref()
    const settle = (outcome: { body: Buffer } | { error: Error }, healthy: boolean) => {
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
      if ('body' in outcome) task.resolve(outcome.body)
      else task.reject(outcome.error)
      this.#next()
    }
    const onMessage = (message: unknown) => {
      if (!isResult(message)) settle({ error: new Error('unexpected message from a Parquet worker') }, false)
      else if ('error' in message)
        settle({ error: new Error(`Parquet encoding failed: ${message.error}`) }, true)
      else
        settle(
          { body: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength) },
          true,
        )
    }
    const onError = (error: Error) => settle({ error }, false)
    const onExit = (code: number) => settle({ error: new Error(`a Parquet worker exited (${code})`) }, false)
    worker.on('message', onMessage)
    worker.once('error', onError)
    worker.once('exit', onExit)
    worker.postMessage(task.job)
  }

  /** Ends every worker (a file being written fails) and refuses new work; resolves once they exited. */
  async close(): Promise<void> {
    this.#closed = true
    for (const task of this.#queue.splice(0)) task.reject(new Error('the Parquet workers are closed'))
    const workers = [...this.#all]
    this.#all.clear()
    this.#idle.length = 0
    await Promise.all(workers.map((worker) => worker.terminate()))
  }
}

/** The file URL of hyparquet-writer's entry point, for the workers' `import()`. */
function writerUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('hyparquet-writer')).href
}
