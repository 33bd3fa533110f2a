/**
 * Quiescing a node's archivers before a drain hands them over: each stops reading, lets the uploads
 * already cut finish and commit (bounded), and reports how many records the next owner will read
 * again (those of files not cut yet). The hand-over itself is the core's: the node then stops its
 * archiver group, and every archiver's own stop drops what is left, as after any rebalance.
 */

/** One archiver that can be quiesced. */
export interface Quiescable {
  /** Stops reading, waits up to `waitMs` for the uploads under way; resolves with the records to re-read. */
  quiesce(waitMs: number): Promise<number>
}

export interface QuiesceReport {
  /** Archivers quiesced. */
  readonly archivers: number
  /** Records read but not committed: the next owners read them again (files not cut yet). */
  readonly reReadRecords: number
}

/** The archivers running on this node, to quiesce them all at once. */
export class QuiesceRegistry {
  readonly #members = new Set<Quiescable>()
  #waitMs: number | undefined

  /** Adds a running archiver; one that starts while the node is quiescing is quiesced at once. */
  add(member: Quiescable): () => void {
    this.#members.add(member)
    if (this.#waitMs !== undefined) void member.quiesce(this.#waitMs)
    return () => this.#members.delete(member)
  }

  /** Quiesces every archiver (and any that starts until `resume`), waiting up to `waitMs`. */
  async quiesceAll(waitMs: number): Promise<QuiesceReport> {
    this.#waitMs = waitMs
    const members = [...this.#members]
    const reRead = await Promise.all(members.map((m) => m.quiesce(waitMs)))
    return { archivers: members.length, reReadRecords: reRead.reduce((a, b) => a + b, 0) }
  }

  /** Archivers started from now on read as usual (a cancelled drain starts new ones). */
  resume(): void {
    this.#waitMs = undefined
  }
}
