/**
 * Fixed-size buffers for framed records, handed back once a compressor has read them. Every byte
 * archived passes through such a buffer; allocating each anew is memory outside V8's heap that V8
 * answers with a collection every few megabytes ("external memory pressure"), the largest part of
 * a compressing archiver's garbage collection. At most `keep` free buffers are kept.
 */
export class ChunkPool {
  readonly #free: Buffer[] = []

  constructor(
    readonly chunkBytes: number,
    private readonly keep: number,
  ) {}

  /** Free buffers kept. */
  get free(): number {
    return this.#free.length
  }

  /** A buffer of `chunkBytes` (its contents are whatever was there). */
  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes)
  }

  /**
   * `chunk`, or a view of its start, is read by no one any more: it may be handed out again. Only
   * a buffer of exactly `chunkBytes` of its own is kept.
   */
  give(chunk: Buffer): void {
    const memory = chunk.buffer
    if (this.#free.length >= this.keep || chunk.byteOffset !== 0 || memory.byteLength !== this.chunkBytes)
      return
    this.#free.push(Buffer.from(memory))
  }
}
