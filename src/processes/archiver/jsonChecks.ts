import { WorkerPool } from '../../util/workerPool.js'

// Runs in each worker: the values arrive in one buffer, with where each starts and its length (-1:
// null). The same V8 parses them, so a reason is word for word what the event loop's JSON.parse
// would have said.
const workerSource = `
const { parentPort } = require('node:worker_threads')
parentPort.on('message', ({ bytes, starts, lengths }) => {
  try {
    const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const bad = []
    const lines = []
    for (let i = 0; i < lengths.length; i++) {
      const n = lengths[i]
      if (n < 0) continue
      const value = all.subarray(starts[i], starts[i] + n)
      let parsed
      try {
        parsed = JSON.parse(value.toString('utf8'))
      } catch (error) {
        bad.push(i, 'not JSON: ' + (error instanceof Error ? error.message : String(error)))
        continue
      }
      if (value.includes(0x0a)) lines.push(i, JSON.stringify(parsed))
    }
    // The buffer goes back to be filled again: no new memory per batch.
    parentPort.postMessage({ result: { bad, lines, buffer: bytes.buffer } }, [bytes.buffer])
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

interface CheckResult {
  readonly verdicts: JsonVerdicts
  /** The buffer the values came in, back from the worker. */
  readonly buffer: ArrayBuffer | undefined
}

function decodeResult(result: unknown): CheckResult | undefined {
  if (typeof result !== 'object' || result === null || !('bad' in result) || !('lines' in result)) return
  const { bad, lines } = result
  const buffer = 'buffer' in result && result.buffer instanceof ArrayBuffer ? result.buffer : undefined
  if (!Array.isArray(bad) || !Array.isArray(lines)) return
  const verdicts = new Map<number, JsonVerdict>()
  for (let i = 0; i + 1 < bad.length; i += 2) verdicts.set(Number(bad[i]), { bad: String(bad[i + 1]) })
  for (let i = 0; i + 1 < lines.length; i += 2) verdicts.set(Number(lines[i]), { line: String(lines[i + 1]) })
  return { verdicts, buffer }
}

/** Buffers kept for the next batches (each about a batch of values: ~1 MiB). */
const SPARE_BUFFERS = 4
const MIN_BUFFER_BYTES = 64 * 1024

/**
 * Checks that record values are JSON on worker threads, a batch at a time, so that the event loop
 * (which decodes the fetches and writes the files) does not spend its time in JSON.parse: a third
 * of an archiver's work on 1 KiB records. One per archiver factory (a node), shared by its archivers.
 */
export class JsonChecks {
  readonly #pool: WorkerPool<{ bytes: Uint8Array; starts: Int32Array; lengths: Int32Array }, CheckResult>
  /** Buffers back from the workers: filling one again costs no new memory (fresh memory is slow to touch). */
  readonly #spare: ArrayBuffer[] = []

  constructor(size?: number) {
    this.#pool = new WorkerPool({
      name: 'JSON check',
      source: workerSource,
      ...(size !== undefined && { size }),
      decode: decodeResult,
    })
  }

  /** Worker threads alive now. */
  get threads(): number {
    return this.#pool.threads
  }

  /**
   * The verdicts on `values` (null values are left to the caller). The values are copied once: as
   * one block when they lie in order in one buffer (a fetch's records do, a few bytes of record
   * framing apart), else one by one.
   */
  async check(values: readonly (Uint8Array | null)[]): Promise<JsonVerdicts> {
    const starts = new Int32Array(values.length)
    const lengths = new Int32Array(values.length)
    const block = oneBlock(values)
    let total = 0
    for (let i = 0; i < values.length; i++) {
      const value = values[i]
      lengths[i] = value == null ? -1 : value.length
      if (block !== undefined) starts[i] = value == null ? 0 : value.byteOffset - block.start
      else {
        starts[i] = total
        total += value?.length ?? 0
      }
    }
    // A spare buffer or a new one of its own (not a pooled slice): moved to the worker, not copied again.
    const bytes = this.#bytes(block === undefined ? total : block.end - block.start)
    if (block !== undefined) bytes.set(new Uint8Array(block.buffer, block.start, block.end - block.start))
    else
      for (let i = 0; i < values.length; i++) {
        const value = values[i]
        if (value != null) bytes.set(value, starts[i])
      }
    const { verdicts, buffer } = await this.#pool.run({ bytes, starts, lengths }, [
      bytes.buffer,
      starts.buffer,
      lengths.buffer,
    ])
    if (buffer !== undefined && this.#spare.length < SPARE_BUFFERS) this.#spare.push(buffer)
    return verdicts
  }

  /** `n` bytes to fill: a spare buffer big enough (and not much bigger), else a new one. */
  #bytes(n: number): Uint8Array<ArrayBuffer> {
    const i = this.#spare.findIndex(
      (b) => b.byteLength >= n && b.byteLength <= 4 * Math.max(n, MIN_BUFFER_BYTES),
    )
    const buffer =
      i >= 0
        ? (this.#spare.splice(i, 1)[0] as ArrayBuffer)
        : new ArrayBuffer(Math.max(MIN_BUFFER_BYTES, 2 ** Math.ceil(Math.log2(Math.max(1, n)))))
    return new Uint8Array(buffer, 0, n)
  }

  /** Ends the workers; a check under way fails (its batch is then checked on the event loop). */
  close(): Promise<void> {
    return this.#pool.close()
  }
}

/** Most of a block may be framing, not values, before copying it whole stops paying. */
const MAX_BLOCK_OVERHEAD = 2

/**
 * Where the values lie when they follow one another in one buffer, with little between them: the
 * block to copy at once.
 */
function oneBlock(
  values: readonly (Uint8Array | null)[],
): { buffer: ArrayBufferLike; start: number; end: number } | undefined {
  let buffer: ArrayBufferLike | undefined
  let start = 0
  let end = 0
  let valueBytes = 0
  for (const value of values) {
    if (value == null) continue
    if (buffer === undefined) {
      buffer = value.buffer
      start = value.byteOffset
    } else if (value.buffer !== buffer || value.byteOffset < end) return
    end = value.byteOffset + value.length
    valueBytes += value.length
  }
  if (buffer === undefined || end - start > MAX_BLOCK_OVERHEAD * valueBytes + 4096) return
  return { buffer, start, end }
}
