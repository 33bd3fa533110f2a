import type { ChunkPool } from './chunkPool.js'
import { type FramedFormat, framingBytes } from './fileEncoding.js'

const FIRST_CHUNK_BYTES = 16 * 1024
/** The size chunks grow to; a pool's chunks have this size. */
export const MAX_CHUNK_BYTES = 256 * 1024

/**
 * A file's records already in its framing (a JSON line and `\n`, or a 4-byte length and the value),
 * in chunks that grow from 16 KiB to 256 KiB. Each record is copied once, straight from the fetch
 * response into the file: no Buffer per record (measured: per-record copies and their garbage
 * were a fifth of the main thread at 1 KiB records), and no slice of a fetch response kept alive.
 * A chunk is completed when the next record does not fit; completed chunks can be handed to a
 * compressor while the file stays open.
 */
export class FramedChunks {
  readonly #completed: Buffer[] = []
  #completedBytes = 0
  #completedRecords = 0
  #current: Buffer | undefined
  #at = 0
  #currentRecords = 0
  #next = FIRST_CHUNK_BYTES
  /** Bytes held, framing included. */
  length = 0

  /** `pool`: where full-size chunks come from (files whose completed chunks are compressed early). */
  constructor(
    private readonly format: FramedFormat,
    private readonly pool?: ChunkPool,
  ) {}

  /** Bytes in completed chunks. */
  get completedBytes(): number {
    return this.#completedBytes
  }

  append(body: Buffer): void {
    const framing = framingBytes(this.format)
    const size = body.length + framing
    let chunk = this.#current
    if (chunk === undefined || chunk.length - this.#at < size) {
      if (chunk !== undefined) {
        this.#completed.push(chunk.subarray(0, this.#at))
        this.#completedBytes += this.#at
        this.#completedRecords += this.#currentRecords
      }
      const pool = this.pool
      chunk =
        pool !== undefined && this.#next === MAX_CHUNK_BYTES && size <= MAX_CHUNK_BYTES
          ? pool.take()
          : Buffer.allocUnsafe(Math.max(size, this.#next))
      this.#next = Math.min(MAX_CHUNK_BYTES, this.#next * 2)
      this.#current = chunk
      this.#at = 0
      this.#currentRecords = 0
    }
    if (this.format !== 'raw') {
      chunk.set(body, this.#at)
      chunk[this.#at + body.length] = 0x0a
    } else {
      chunk.writeUInt32BE(body.length, this.#at)
      chunk.set(body, this.#at + 4)
    }
    this.#at += size
    this.#currentRecords++
    this.length += size
  }

  /** The completed chunks, in order, and how many records they hold; handed over (the open chunk stays). */
  takeCompleted(): { chunks: Buffer[]; records: number } {
    const chunks = this.#completed.splice(0)
    const records = this.#completedRecords
    this.length -= this.#completedBytes
    this.#completedBytes = 0
    this.#completedRecords = 0
    return { chunks, records }
  }

  /** Everything appended so far, in order; the chunks are handed over (this is empty afterwards). */
  take(): Buffer[] {
    const taken = this.takeCompleted().chunks
    if (this.#current !== undefined && this.#at > 0) taken.push(this.#current.subarray(0, this.#at))
    this.#current = undefined
    this.#at = 0
    this.#currentRecords = 0
    this.length = 0
    return taken
  }
}
