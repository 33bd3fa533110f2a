/** Why an archiver stopped by itself: retrying could not help, and it waits for an operator. */
export type StopReason = 'sink-error' | 'conflicting-object' | 'bad-record' | 'unsupported'

/** An archiver of this node that stopped by itself (shown in `GET /topics` and as an event). */
export interface StoppedArchiver {
  readonly topic: string
  /** The sink id. */
  readonly sink: string
  readonly reason: StopReason
  readonly error: string
  /** When it stopped (ISO 8601). */
  readonly since: string
}

/**
 * The archivers of a node that stopped by themselves, by archiver group. An entry lives while the
 * stopped archiver does: a config change, a restart or a move to another node ends it (and the
 * archiver that starts instead reports again if the cause is still there).
 */
export class StoppedArchivers {
  readonly #entries = new Map<string, StoppedArchiver>()
  readonly #listeners = new Set<(stopped: StoppedArchiver) => void>()

  set(key: string, stopped: StoppedArchiver): void {
    this.#entries.set(key, stopped)
    for (const listener of this.#listeners) listener(stopped)
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  list(): StoppedArchiver[] {
    return [...this.#entries.values()]
  }

  /** Hears every new stop (the node turns them into events). */
  onStop(listener: (stopped: StoppedArchiver) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
