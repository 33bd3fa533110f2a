// What this node's shards are doing, for `GET /shards` and `GET /health`.

/** The phases of a shard instance, in order. */
export type ShardPhase = 'fencing' | 'restoring' | 'joining' | 'running' | 'stopping'

/** One shard instance on this node. */
export interface ShardStatus {
  readonly shard: number
  readonly phase: ShardPhase
  readonly fencingToken: number
  /** Starts of this shard on this node so far (a restart after a failure counts). */
  readonly starts: number
  readonly startedAt: string
  readonly conversations: number
  readonly restoredRecords: number
  readonly messages: number
  readonly requests: number
  readonly deadLetters: number
  readonly forwarded: number
  readonly transactions: number
  /** Records kafkajs delivered again below the checkpoint (skipped: they were already handled). */
  readonly redelivered: number
  /** Input offsets (next to read) the shard's state reflects. */
  readonly checkpoint: { readonly messages: number; readonly requests: number }
  readonly lastError: string | undefined
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** The live status record of one shard instance: the shard updates it, the HTTP API reads it. */
export type ShardStatusRecord = Mutable<ShardStatus>

/** Every shard instance on this node. */
export class ShardBoard {
  readonly #live = new Map<number, ShardStatusRecord>()
  readonly #starts = new Map<number, number>()
  readonly #lastErrors = new Map<number, string>()

  /** Registers a starting instance; its record stays listed until `close(record)`. */
  open(shard: number, fencingToken: number): ShardStatusRecord {
    const starts = (this.#starts.get(shard) ?? 0) + 1
    this.#starts.set(shard, starts)
    const record: ShardStatusRecord = {
      shard,
      phase: 'fencing',
      fencingToken,
      starts,
      startedAt: new Date().toISOString(),
      conversations: 0,
      restoredRecords: 0,
      messages: 0,
      requests: 0,
      deadLetters: 0,
      forwarded: 0,
      transactions: 0,
      redelivered: 0,
      checkpoint: { messages: 0, requests: 0 },
      lastError: this.#lastErrors.get(shard),
    }
    this.#live.set(shard, record)
    return record
  }

  /** Removes an instance (only if it is still the listed one) and keeps its error, if any. */
  close(record: ShardStatusRecord, error?: unknown): void {
    if (error !== undefined)
      this.#lastErrors.set(record.shard, error instanceof Error ? error.message : String(error))
    if (this.#live.get(record.shard) === record) this.#live.delete(record.shard)
  }

  list(): ShardStatus[] {
    return [...this.#live.values()]
      .sort((a, b) => a.shard - b.shard)
      .map((r) => ({ ...r, checkpoint: { ...r.checkpoint } }))
  }
}
