/**
 * The uploads of one partition, run one after another in offset order, so that its commits never
 * go backwards and never pass a file that is not stored yet. They run in the background: the
 * partition keeps being read (and other partitions keep uploading) while a file is encoded and
 * written, which is what lets the archiver use more than one core.
 *
 * A step that fails stops the queue: later steps are skipped, because committing past a file that
 * was never stored would lose its records. `throwIfFailed` hands the failure to the reader.
 */
export class UploadQueue {
  #tail: Promise<void> = Promise.resolve()
  readonly #pending: Promise<void>[] = []
  #failure: { error: unknown } | undefined

  /** Steps queued or running. */
  get size(): number {
    return this.#pending.length
  }

  push(step: () => Promise<void>): void {
    const run = this.#tail.then(async () => {
      if (this.#failure === undefined) await step()
    })
    const settled: Promise<void> = run.then(
      (): void => this.#settle(settled),
      (error: unknown): void => {
        this.#failure ??= { error }
        this.#settle(settled)
      },
    )
    this.#pending.push(settled)
    this.#tail = settled
  }

  /** Resolves when the oldest step has finished (at once if there is none). */
  oldest(): Promise<void> {
    return this.#pending[0] ?? Promise.resolve()
  }

  /** Resolves when every step queued so far has finished. Never rejects. */
  drained(): Promise<void> {
    return this.#tail
  }

  throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error
  }

  #settle(step: Promise<void>): void {
    const at = this.#pending.indexOf(step)
    if (at >= 0) this.#pending.splice(at, 1)
  }
}
