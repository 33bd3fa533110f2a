/**
 * Batches processed one at a time, in the order they were fetched, while the consumer fetches the
 * next ones (kafkajs fetches again only once every batch of the last fetch was handled: handing
 * them on here lets the fetch and the work overlap).
 *
 * What kafkajs did for a batch whose handler threw, re-reading it, is kept: the work's `rewind`
 * moves the fetch position back to the batch's first offset, the partition's batches after it are
 * dropped until one starting at or before that offset comes, and the error is given back to the
 * consumer at its next batch (kafkajs then retries as before). A new assignment drops everything
 * queued.
 */
export class BatchPipeline {
  #turn: Promise<void> = Promise.resolve()
  #queuedBytes = 0
  #generation = 0
  #closed = false
  /** Per partition: the first offset of a batch that failed; later batches wait for a re-read. */
  readonly #rewoundTo = new Map<number, number>()
  #failure: { error: unknown } | undefined

  #queuedBatches = 0
  /** Resolved (and replaced) each time a batch is done or dropped: pushes waiting for room look again. */
  #batchDone = signal()

  /**
   * `aheadBytes`, `aheadBatches`: the values' bytes and the batches that may wait their turn
   * before a push waits too (so that small records do not pile up by the thousand batches).
   */
  constructor(
    private readonly aheadBytes: number,
    private readonly aheadBatches: number = Number.POSITIVE_INFINITY,
  ) {}

  /** A new assignment: batches queued before it are dropped (their records are read again). */
  newGeneration(): void {
    this.#generation++
    this.#rewoundTo.clear()
    this.#failure = undefined
  }

  /** Throws (once) the error of a batch that failed since the last call. */
  throwIfFailed(): void {
    const failure = this.#failure
    this.#failure = undefined
    if (failure !== undefined) throw failure.error
  }

  /**
   * Whether a batch from `first` would be dropped now (a batch of its partition failed before it
   * and was not read again yet): the consumer must not move its fetch position past it.
   */
  drops(partition: number, first: number | undefined): boolean {
    const rewoundTo = this.#rewoundTo.get(partition)
    return this.#closed || (rewoundTo !== undefined && first !== undefined && first > rewoundTo)
  }

  /**
   * Queues the work of a partition's batch (records from `first`, none if undefined; values of
   * `bytes`). Resolves once the caller may fetch on: once no more than `aheadBytes` and
   * `aheadBatches` wait (this batch included), at once or when enough batches before it are done.
   * Waiting for room rather than for the batch itself keeps about one fetch queued while the next
   * is on its way, so the work never waits for the broker.
   */
  async push(
    partition: number,
    first: number | undefined,
    bytes: number,
    work: () => Promise<void>,
    rewind: () => void,
  ): Promise<void> {
    const generation = this.#generation
    this.#queuedBytes += bytes
    this.#queuedBatches++
    const done = this.#turn
      .then(async () => {
        if (generation !== this.#generation || this.drops(partition, first)) return
        if (first !== undefined) this.#rewoundTo.delete(partition)
        try {
          await work()
        } catch (error) {
          this.#failure ??= { error }
          if (first === undefined) return
          this.#rewoundTo.set(partition, first)
          try {
            rewind()
          } catch {
            // The consumer is stopping or lost the partition: its next owner reads from the commit.
          }
        }
      })
      .finally(() => {
        this.#queuedBytes -= bytes
        this.#queuedBatches--
        this.#batchDone.resolve()
        this.#batchDone = signal()
      })
    this.#turn = done
    while (this.#queuedBytes > this.aheadBytes || this.#queuedBatches > this.aheadBatches)
      await this.#batchDone.promise
  }

  /** Resolves when every batch queued so far is done or dropped. */
  settled(): Promise<void> {
    return this.#turn
  }

  /** Drops what is queued (the consumer is stopping); resolves when the batch under way is done. */
  close(): Promise<void> {
    this.#closed = true
    return this.#turn
  }
}

/** A promise and the function that resolves it (Node 20 has no Promise.withResolvers). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {}
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}
