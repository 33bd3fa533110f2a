/**
 * Node-wide bounds on what archivers hold in memory before it is uploaded. At the bound, archivers
 * flush their largest partition early and wait, instead of fetching more.
 */
export class InFlightBudget {
  #records = 0
  #bytes = 0
  readonly #relievers = new Set<() => void>()

  constructor(
    readonly maxRecords: number,
    readonly maxBytes: number,
  ) {}

  get records(): number {
    return this.#records
  }

  get bytes(): number {
    return this.#bytes
  }

  add(records: number, bytes: number): void {
    this.#records += records
    this.#bytes += bytes
  }

  release(records: number, bytes: number): void {
    this.#records = Math.max(0, this.#records - records)
    this.#bytes = Math.max(0, this.#bytes - bytes)
  }

  over(): boolean {
    return this.#records >= this.maxRecords || this.#bytes >= this.maxBytes
  }

  /** Registers an archiver that can give memory back (flush its largest partition) when asked. */
  onPressure(reliever: () => void): () => void {
    this.#relievers.add(reliever)
    return () => this.#relievers.delete(reliever)
  }

  /** Asks every archiver to flush early. */
  relieve(): void {
    for (const reliever of this.#relievers) reliever()
  }
}
