import type { Transform } from 'node:stream'
import { ChunkPool } from './chunkPool.js'
import { createCompressor, type FileCompression } from './compression.js'
import type { OpenFile } from './fileRotation.js'
import { MAX_CHUNK_BYTES } from './framedChunks.js'
import type { InFlightBudget } from './inFlightBudget.js'

/** Output chunk of a stream: one is allocated per stream, so kept small. */
const STREAM_CHUNK_BYTES = 64 * 1024
/**
 * Memory of one open gzip stream, counted by the in-flight budget: zlib's deflate state at level 1
 * ((1 << (windowBits + 2)) + (1 << (memLevel + 9)) = 256 KiB) and its output chunk.
 */
export const STREAM_MEMORY_BYTES = 256 * 1024 + STREAM_CHUNK_BYTES
/** The same for zstd at level 1: its 512 KiB window, hash and chain tables (~1 MiB) and the chunk. */
export const ZSTD_STREAM_MEMORY_BYTES = 1536 * 1024 + STREAM_CHUNK_BYTES

/** What the budget counts for one open stream of `compression`. */
export function streamMemoryBytes(compression: StreamedCompression): number {
  return compression === 'gzip' ? STREAM_MEMORY_BYTES : ZSTD_STREAM_MEMORY_BYTES
}

/** The compressions a file can be compressed with while it is open. */
export type StreamedCompression = Exclude<FileCompression, 'none'>

/**
 * One gzip (or zstd) stream fed with a file's records while the file is still open. When the file is
 * cut only its newest records are left to compress, so the upload starts at once instead of waiting
 * for the whole file (the main cost at the end of a burst, when every partition cuts its file
 * together). The result is one ordinary gzip member (zstd frame).
 */
export class StreamingCompression {
  readonly #stream: Transform
  readonly #output: Buffer[] = []
  readonly #ended: Promise<void>
  #records = 0
  #onRelease: (() => void) | undefined

  /** `onRelease` runs once, when the stream has finished or was destroyed. */
  constructor(compression: StreamedCompression, onRelease?: () => void) {
    this.#onRelease = onRelease
    this.#stream = createCompressor(compression, STREAM_CHUNK_BYTES)
    this.#stream.on('data', (chunk: Buffer) => this.#output.push(chunk))
    this.#ended = new Promise((resolve, reject) => {
      this.#stream.once('end', resolve)
      this.#stream.once('error', reject)
    })
    // Observed in finish(); a stream that is only destroyed must not raise an unhandled rejection.
    this.#ended.catch(() => {})
  }

  /** Records of the file written so far (the first ones, in order). */
  get recordsWritten(): number {
    return this.#records
  }

  /**
   * Compresses `chunks` (framed records, `records` of them); each goes back to `pool` once zlib has
   * read it. No wait for the stream to drain: what it queues is the file's own records, already
   * counted by the in-flight budget.
   */
  write(chunks: readonly Buffer[], records: number, pool?: ChunkPool): void {
    for (const chunk of chunks) {
      this.#stream.write(chunk, (error?: Error | null) => {
        // Not after an error: a destroyed stream's zlib may still be reading the chunk.
        if (!error) pool?.give(chunk)
      })
    }
    this.#records += records
  }

  /** Compresses `rest` and ends the stream; the whole compressed file. */
  async finish(rest: Buffer): Promise<Buffer> {
    try {
      this.#stream.end(rest)
      await this.#ended
      return Buffer.concat(this.#output)
    } finally {
      this.#release()
    }
  }

  destroy(): void {
    this.#stream.destroy()
    this.#release()
  }

  #release(): void {
    const onRelease = this.#onRelease
    this.#onRelease = undefined
    onRelease?.()
  }
}

/**
 * Bytes of completed chunks that make a compression step: large enough that the stream is cheap to
 * feed, small enough that records die young (and, likely, that a step is still in the CPU cache
 * when zlib reads it): 256 KiB measured 0.84x of the plain consumer end to end, 1 MiB 0.74x
 * (docs/benchmarks.md). Once a file's chunks have grown to full size, each step is one chunk.
 */
const STEP_BYTES = MAX_CHUNK_BYTES
/** Free chunks a layout keeps for its streamed files: about as many as its open files have in zlib's queue. */
const POOLED_CHUNKS = 16

/**
 * The streams of an archiver's open files. Only compressed files that are not sorted are compressed
 * early (a sorted file's order is known only when it is cut), and only once a file holds a step of
 * records, so a partition with a small file costs no compressor state.
 */
export class OpenFileCompression {
  readonly #streams = new Map<OpenFile, StreamingCompression>()
  /** The chunks of streamed files, reused once compressed; undefined when no file is streamed. */
  readonly chunks: ChunkPool | undefined

  constructor(
    /** The compression of files streamed while open; undefined: none is (files compress when cut). */
    private readonly compression: StreamedCompression | undefined,
    /** Counts each stream's own memory while it is open (the records are counted as they come). */
    private readonly budget?: InFlightBudget,
  ) {
    this.chunks = compression === undefined ? undefined : new ChunkPool(MAX_CHUNK_BYTES, POOLED_CHUNKS)
  }

  /** After records were added to `file`: compresses its completed chunks once they make a step. */
  advance(file: OpenFile): void {
    const compression = this.compression
    const framed = file.framed
    if (compression === undefined || framed === undefined || framed.completedBytes < STEP_BYTES) return
    let stream = this.#streams.get(file)
    if (!stream) {
      const budget = this.budget
      const memory = streamMemoryBytes(compression)
      budget?.add(0, memory)
      stream = new StreamingCompression(compression, () => budget?.release(0, memory))
      this.#streams.set(file, stream)
    }
    // Compressed records leave the file: it holds them compressed (about a quarter) from now on.
    const { chunks, records } = framed.takeCompleted()
    stream.write(chunks, records, this.chunks)
  }

  /** The file's stream, if it has one; the caller owns it from now on (finish or destroy it). */
  take(file: OpenFile): StreamingCompression | undefined {
    const stream = this.#streams.get(file)
    this.#streams.delete(file)
    return stream
  }

  /** Drops the streams of files that will not be written (a rebalance dropped them). */
  discard(files: readonly OpenFile[]): void {
    for (const file of files) this.take(file)?.destroy()
  }
}
