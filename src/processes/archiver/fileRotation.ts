import type { ChunkPool } from './chunkPool.js'
import type { FramedFormat } from './fileEncoding.js'
import { FramedChunks } from './framedChunks.js'

/** One record kept in an open file. */
export interface BufferedRecord {
  readonly offset: number
  /** The bytes written for it (a JSON line without its newline, or the raw value). */
  readonly body: Buffer
  readonly timeMs: number
  /** Value of the sort attribute, when files are sorted. */
  readonly sortKey: string | number | undefined
  /** What a Parquet file stores besides the value: the Kafka timestamp and key (UTF-8). */
  readonly kafka?: { readonly timestamp: number; readonly key: string | null }
}

/**
 * The bytes a buffered record counts for (rotation's `maxBytes`, the in-flight budget): its body and
 * its framing, and a Parquet record's key.
 */
export function bufferedBytes(record: BufferedRecord): number {
  return record.body.length + 1 + (record.kafka?.key?.length ?? 0)
}

/** An open (not yet uploaded) file of one partition under one output path. */
export interface OpenFile {
  readonly path: string
  /** Offset of its first record: part of its name, so a re-upload finds the same object. */
  readonly startOffset: number
  /** Offset of its latest record. */
  lastOffset: number
  /**
   * Records kept one by one (sorted files: their order is known only when cut), not yet handed to a
   * compressor. Files that keep Kafka order hold them in `framed` instead.
   */
  readonly records: BufferedRecord[]
  /** The records already framed (unsorted files), not yet handed to a compressor. */
  readonly framed?: FramedChunks
  /** Records appended, including any already compressed. */
  count: number
  bytes: number
  minTimeMs: number
  maxTimeMs: number
  /** Monotonic ms when it was opened (for the optional wall-clock age rule). */
  readonly openedAt: number
}

export interface RotationRules {
  readonly maxBytes: number
  readonly maxRecords: number
  readonly maxSpanMs: number
  /** Wall-clock age of an open file; null: off. */
  readonly maxAgeMs: number | null
  /** Time without a new record after which the partition's open files are cut; null: off. */
  readonly idleMs: number | null
}

/**
 * The open files of one Kafka partition, one per output path. The rules decide when to flush; a
 * flush always takes every open file of the partition, so that after it the partition's offset can
 * be committed — and after a crash the same records are cut into the same objects again.
 */
export class FileRotation {
  readonly #files = new Map<string, OpenFile>()
  #bytes = 0
  #records = 0
  /** Monotonic ms of the latest append (for the idle rule). */
  #lastAppendAt = 0

  constructor(private readonly rules: RotationRules) {}

  get bytes(): number {
    return this.#bytes
  }

  get records(): number {
    return this.#records
  }

  get isEmpty(): boolean {
    return this.#files.size === 0
  }

  /**
   * True when adding a record with this time to `path`'s open file would make the file span more than
   * maxSpanMs: the partition must be flushed first, so that no file ever spans more than that.
   */
  spanWouldExceed(path: string, timeMs: number): boolean {
    const file = this.#files.get(path)
    if (!file) return false
    return Math.max(file.maxTimeMs, timeMs) - Math.min(file.minTimeMs, timeMs) > this.rules.maxSpanMs
  }

  /**
   * Adds a record; returns its file (see `mustFlush`). With `framing`, a new file frames its records
   * as they come (copying each once; the record's body may be a slice of a fetch response); without
   * it, it keeps the records themselves (sorted files).
   */
  append(
    path: string,
    record: BufferedRecord,
    now: number,
    framing?: FramedFormat,
    chunks?: ChunkPool,
  ): OpenFile {
    let file = this.#files.get(path)
    if (!file) {
      file = {
        path,
        startOffset: record.offset,
        lastOffset: record.offset,
        records: [],
        ...(framing !== undefined && { framed: new FramedChunks(framing, chunks) }),
        count: 0,
        bytes: 0,
        minTimeMs: record.timeMs,
        maxTimeMs: record.timeMs,
        openedAt: now,
      }
      this.#files.set(path, file)
    }
    if (file.framed) file.framed.append(record.body)
    else file.records.push(record)
    file.lastOffset = record.offset
    this.#lastAppendAt = now
    file.count++
    const bytes = bufferedBytes(record)
    file.bytes += bytes
    file.minTimeMs = Math.min(file.minTimeMs, record.timeMs)
    file.maxTimeMs = Math.max(file.maxTimeMs, record.timeMs)
    this.#bytes += bytes
    this.#records++
    return file
  }

  /** True when `file` reached maxBytes, maxRecords or maxSpanMs: flush now. */
  mustFlush(file: OpenFile): boolean {
    return this.ruleFired(file) !== undefined
  }

  /** The rule `file` reached (`maxBytes`, `maxRecords`, `maxSpanMs`), if any: flush now. */
  ruleFired(file: OpenFile): 'maxBytes' | 'maxRecords' | 'maxSpanMs' | undefined {
    if (file.bytes >= this.rules.maxBytes) return 'maxBytes'
    if (file.count >= this.rules.maxRecords) return 'maxRecords'
    if (file.maxTimeMs - file.minTimeMs >= this.rules.maxSpanMs) return 'maxSpanMs'
    return undefined
  }

  /** True when the optional wall-clock rule says a file is too old. */
  tooOld(now: number): boolean {
    if (this.rules.maxAgeMs === null) return false
    for (const file of this.#files.values()) if (now - file.openedAt >= this.rules.maxAgeMs) return true
    return false
  }

  /** True when files are open and no record came for idleMs. */
  idle(now: number): boolean {
    return this.rules.idleMs !== null && this.#files.size > 0 && now - this.#lastAppendAt >= this.rules.idleMs
  }

  /** Takes every open file out (the caller uploads them, then commits). */
  takeAll(): OpenFile[] {
    const files = [...this.#files.values()]
    this.#files.clear()
    this.#bytes = 0
    this.#records = 0
    return files
  }
}
