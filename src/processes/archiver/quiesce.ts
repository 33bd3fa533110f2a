/**
 * Quiescing a node's archivers before a drain hands them over: each stops reading, lets the uploads
 * already cut finish and commit (bounded), and reports how many records the next owner will read
 * again (those of files not cut yet). The hand-over itself is the core's: the node then stops its
 * archiver group, and every archiver's own stop drops what is left, as after any rebalance.
 */

/** One archiver that can be quiesced. */
export interface Quiescable {
  /** Stops reading, waits up to `waitMs` for the uploads under way; resolves with what the next owner re-reads. */
  quiesce(waitMs: number): Promise<{ readonly reRead: number; readonly uncut: number }>
}

export interface QuiesceReport {
  /** Archivers quiesced. */
  readonly archivers: number
  /** Records read but not committed: the next owners read them again. */
  readonly reReadRecords: number
  /** Of those, the records in files not cut yet; the rest were cut but not stored in time. */
  readonly uncutRecords: number
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
    const reports = await Promise.all(members.map((m) => m.quiesce(waitMs)))
    return {
      archivers: members.length,
      reReadRecords: reports.reduce((sum, r) => sum + r.reRead, 0),
      uncutRecords: reports.reduce((sum, r) => sum + r.uncut, 0),
    }
  }

  /** Archivers started from now on read as usual (a cancelled drain starts new ones). */
  resume(): void {
    this.#waitMs = undefined
  }
}
