import { WorkerPool } from '../../util/workerPool.js'

// Runs in each worker: the values arrive as one buffer and their lengths (-1: null). The same V8
// parses them, so a reason is word for word what the event loop's JSON.parse would have said.
const workerSource = `
const { parentPort } = require('node:worker_threads')
parentPort.on('message', ({ bytes, lengths }) => {
  try {
    const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const bad = []
    const lines = []
    let at = 0
    for (let i = 0; i < lengths.length; i++) {
      const n = lengths[i]
      if (n < 0) continue
      const value = all.subarray(at, at + n)
      at += n
      let parsed
      try {
        parsed = JSON.parse(value.toString('utf8'))
      } catch (error) {
        bad.push(i, 'not JSON: ' + (error instanceof Error ? error.message : String(error)))
        continue
      }
      if (value.includes(0x0a)) lines.push(i, JSON.stringify(parsed))
    }
    parentPort.postMessage({ result: { bad, lines } })
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.stack) || error) })
  }
})
`

/** What a worker found in one record's value. */
export interface JsonVerdict {
  /** Why the value is not JSON. */
  readonly bad?: string
  /** The value re-serialised on one line (it spans several). */
  readonly line?: string
}

/** The verdicts of a batch, by the record's index in it; an index not in it is one line of JSON. */
export type JsonVerdicts = ReadonlyMap<number, JsonVerdict>

function decodeVerdicts(result: unknown): JsonVerdicts | undefined {
  if (typeof result !== 'object' || result === null || !('bad' in result) || !('lines' in result)) return
  const { bad, lines } = result
  if (!Array.isArray(bad) || !Array.isArray(lines)) return
  const verdicts = new Map<number, JsonVerdict>()
  for (let i = 0; i + 1 < bad.length; i += 2) verdicts.set(Number(bad[i]), { bad: String(bad[i + 1]) })
  for (let i = 0; i + 1 < lines.length; i += 2) verdicts.set(Number(lines[i]), { line: String(lines[i + 1]) })
  return verdicts
}

/**
 * Checks that record values are JSON on worker threads, a batch at a time, so that the event loop
 * (which decodes the fetches and writes the files) does not spend its time in JSON.parse: a third
 * of an archiver's work on 1 KiB records. One per archiver factory (a node), shared by its archivers.
 */
export class JsonChecks {
  readonly #pool: WorkerPool<{ bytes: Uint8Array; lengths: Int32Array }, JsonVerdicts>

  constructor(size?: number) {
    this.#pool = new WorkerPool({
      name: 'JSON check',
      source: workerSource,
      ...(size !== undefined && { size }),
      decode: decodeVerdicts,
    })
  }

  /** Worker threads alive now. */
  get threads(): number {
    return this.#pool.threads
  }

  /** The verdicts on `values` (null values are left to the caller). The values are copied once. */
  check(values: readonly (Uint8Array | null)[]): Promise<JsonVerdicts> {
    const lengths = new Int32Array(values.length)
    let total = 0
    for (let i = 0; i < values.length; i++) {
      const value = values[i]
      lengths[i] = value == null ? -1 : value.length
      total += value?.length ?? 0
    }
    // A buffer of its own (not a pooled slice): it is moved to the worker, not copied again.
    const bytes = new Uint8Array(new ArrayBuffer(total))
    let at = 0
    for (const value of values) {
      if (value == null) continue
      bytes.set(value, at)
      at += value.length
    }
    return this.#pool.run({ bytes, lengths }, [bytes.buffer, lengths.buffer])
  }

  /** Ends the workers; a check under way fails (its batch is then checked on the event loop). */
  close(): Promise<void> {
    return this.#pool.close()
  }
}
