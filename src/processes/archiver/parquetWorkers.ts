import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { WorkerPool } from '../../util/workerPool.js'
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
      parentPort.postMessage({ result: body }, [body.buffer])
    })
    .catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }))
})
`

/**
 * Worker threads writing Parquet files, one file at a time each (see WorkerPool). One per archiver
 * factory (a node), shared by its archivers.
 */
export class ParquetWorkers {
  readonly #pool: WorkerPool<ParquetJob, Buffer>

  constructor(size?: number) {
    this.#pool = new WorkerPool({
      name: 'Parquet',
      source: workerSource,
      workerData: () => ({ writer: writerUrl() }),
      ...(size !== undefined && { size }),
      decode: (body) =>
        body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined,
    })
  }

  /** Worker threads alive now. */
  get threads(): number {
    return this.#pool.threads
  }

  encode(job: ParquetJob): Promise<Buffer> {
    return this.#pool.run(job)
  }

  /** Ends every worker (a file being written fails) and refuses new work; resolves once they exited. */
  close(): Promise<void> {
    return this.#pool.close()
  }
}

/** The file URL of hyparquet-writer's entry point, for the workers' `import()`. */
function writerUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('hyparquet-writer')).href
}
