import { monotonicMs } from '../../coordination/lease.js'
import type { ProcessContext } from '../../coordination/process.js'
import type { TopicConfig } from '../../coordination/state/topicConfig.js'
import type { Sink } from '../../sinks/sink.js'
import { sleep } from '../../sleep.js'
import { backoffDelay } from '../supervision.js'
import type { DeadLetters } from './deadLetters.js'
import { encodeFile, objectKey } from './fileEncoding.js'
import { type BufferedRecord, FileRotation } from './fileRotation.js'
import type { InFlightBudget } from './inFlightBudget.js'
import type { ArchiveMetrics } from './metrics.js'
import { renderPath, templateReadsFields, timeParts } from './pathTemplate.js'
import { parseTime, readJsonPath } from './recordFields.js'
import type { BatchControl, ConsumedRecord, TopicConsumer } from './topicConsumer.js'

export interface ArchiverDeps {
  readonly config: TopicConfig
  readonly sink: Sink
  readonly consumer: TopicConsumer
  readonly deadLetters: DeadLetters
  readonly budget: InFlightBudget
  readonly metrics: ArchiveMetrics
  /** Key under which this archiver's group lag is reported. */
  readonly lagKey: string
}

/** Thrown to abandon work on a partition this archiver no longer owns; nothing is committed. */
class Abandoned extends Error {}

interface PartitionState {
  readonly rotation: FileRotation
  /** Offset of the last record handled (buffered, dead-lettered or skipped). */
  lastOffset: number
  /** The next offset committed for it, once anything was. */
  committed: number | undefined
  lock: Promise<void>
}

type Prepared = { kind: 'file'; path: string; record: BufferedRecord } | { kind: 'bad'; reason: string }

/**
 * One archiver instance: a member of the (topic, sink) consumer group that cuts records into files,
 * uploads them, and only then commits. Every rebalance drops what is buffered (the group re-reads
 * from the committed offset), so after any crash every record ends up in exactly one object.
 */
export class Archiver {
  readonly #partitions = new Map<number, PartitionState>()
  readonly #config: TopicConfig
  readonly #needsJson: boolean
  #epoch = 0
  #failed = false

  constructor(
    private readonly deps: ArchiverDeps,
    private readonly ctx: ProcessContext,
  ) {
    const c = deps.config
    this.#config = c
    this.#needsJson =
      c.format === 'jsonl' ||
      c.time.field !== null ||
      c.sortBy !== null ||
      templateReadsFields(c.pathTemplate)
  }

  /** Runs until the process is aborted (or the bad-record policy is `fail`). */
  async run(): Promise<void> {
    const { consumer, budget, metrics } = this.deps
    const unsubscribe = budget.onPressure(() => void this.#flushLargest())
    const timers: NodeJS.Timeout[] = []
    try {
      await consumer.start({
        onBatch: (partition, records, control) =>
          this.#withLock(partition, () => this.#onBatch(partition, records, control)),
        onAssignment: () => this.#dropAll(),
      })
      timers.push(setInterval(() => void this.#reportLag(), 5000))
      if (this.#config.rotation.maxAgeMs !== null) timers.push(setInterval(() => void this.#flushOld(), 1000))
      while (!this.ctx.signal.aborted && !this.#failed) await sleep(1000, this.ctx.signal)
      if (this.#failed) {
        // Policy `fail`: stop consuming and stay stopped (no crash loop) until the config changes.
        await consumer.stop().catch(() => {})
        while (!this.ctx.signal.aborted) await sleep(60_000, this.ctx.signal)
      }
    } finally {
      for (const timer of timers) clearInterval(timer)
      unsubscribe()
      await consumer.stop().catch(() => {})
      this.#dropAll()
      metrics.lagByArchiver.delete(this.deps.lagKey)
    }
  }

  #state(partition: number): PartitionState {
    let state = this.#partitions.get(partition)
    if (!state) {
      state = {
        rotation: new FileRotation(this.#config.rotation),
        lastOffset: -1,
        committed: undefined,
        lock: Promise.resolve(),
      }
      this.#partitions.set(partition, state)
    }
    return state
  }

  #withLock(partition: number, work: () => Promise<void>): Promise<void> {
    const state = this.#state(partition)
    const run = state.lock.then(work)
    state.lock = run.catch(() => {})
    return run
  }

  /** After a rebalance kafkajs re-reads from the committed offsets: what we buffered must go. */
  #dropAll(): void {
    this.#epoch++
    for (const state of this.#partitions.values()) {
      const { rotation } = state
      this.deps.budget.release(rotation.records, rotation.bytes)
      rotation.takeAll()
    }
    this.#partitions.clear()
  }

  async #onBatch(
    partition: number,
    records: readonly ConsumedRecord[],
    control: BatchControl,
  ): Promise<void> {
    if (this.#failed) throw new Error('archiver stopped by the "fail" bad-record policy')
    const epoch = this.#epoch
    const state = this.#state(partition)
    try {
      for (const record of records) {
        if (!control.stillOwned() || this.ctx.signal.aborted || epoch !== this.#epoch) return
        if (record.offset <= state.lastOffset) continue
        const prepared = this.#prepare(record)
        if (prepared.kind === 'bad') {
          await this.#handleBad(partition, record, prepared.reason, control)
          state.lastOffset = record.offset
          continue
        }
        if (state.rotation.spanWouldExceed(prepared.path, prepared.record.timeMs))
          await this.#flush(partition, state, epoch, control)
        const mustFlush = state.rotation.append(prepared.path, prepared.record, monotonicMs())
        this.deps.budget.add(1, prepared.record.body.length + 1)
        this.deps.metrics.recordsConsumed++
        state.lastOffset = record.offset
        if (mustFlush) await this.#flush(partition, state, epoch, control)
        if (this.deps.budget.over()) await this.#relieve(partition, state, epoch, control)
      }
      // A partition with nothing buffered (say, only bad records) can commit at once.
      if (state.rotation.isEmpty && state.lastOffset >= 0 && (state.committed ?? -1) <= state.lastOffset) {
        await this.#commit(partition, state, state.lastOffset + 1, epoch)
      }
    } catch (error) {
      if (error instanceof Abandoned) return
      throw error
    }
  }

  #prepare(record: ConsumedRecord): Prepared {
    const c = this.#config
    let parsed: unknown
    if (this.#needsJson) {
      if (record.value === null)
        return { kind: 'bad', reason: 'null value (tombstone) where a JSON record was expected' }
      try {
        parsed = JSON.parse(record.value.toString('utf8'))
      } catch (error) {
        return { kind: 'bad', reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
      }
    }
    let timeMs = record.timestamp
    if (c.time.field !== null) {
      const time = parseTime(readJsonPath(parsed, c.time.field), c.time.format)
      if (!time.ok) return { kind: 'bad', reason: `time field ${c.time.field}: ${time.reason}` }
      timeMs = time.ms
    }
    const path = renderPath(c.pathTemplate, timeParts(timeMs, c.time.timeZone, c.time.granularity), parsed)
    const value = record.value ?? Buffer.alloc(0)
    // A JSON line must be one line: re-serialise the rare value that spans several. Otherwise copy:
    // kafkajs hands out slices of the whole fetch response, and one kept slice keeps all of it alive
    // (the in-flight bound would count 1 KiB while 10 MiB stay in memory).
    const body =
      c.format === 'jsonl' && value.includes(0x0a) ? Buffer.from(JSON.stringify(parsed)) : Buffer.from(value)
    const sortValue = c.sortBy === null ? undefined : readJsonPath(parsed, c.sortBy)
    const sortKey = typeof sortValue === 'number' || typeof sortValue === 'string' ? sortValue : undefined
    return { kind: 'file', path, record: { offset: record.offset, body, timeMs, sortKey } }
  }

  async #handleBad(
    partition: number,
    record: ConsumedRecord,
    reason: string,
    control: BatchControl,
  ): Promise<void> {
    const { metrics, deadLetters } = this.deps
    const c = this.#config
    metrics.badRecords++
    const where = { topic: c.topic, partition, offset: record.offset, reason }
    if (c.badRecordPolicy === 'skip') {
      this.ctx.logger.warn('bad record skipped', where)
      return
    }
    if (c.badRecordPolicy === 'fail') {
      this.#failed = true
      this.ctx.logger.error(
        'bad record: archiver stopped (policy "fail"); fix the data or the config to resume',
        where,
      )
      throw new Error(`bad record at ${c.topic}/${partition}@${record.offset}: ${reason}`)
    }
    const dlqTopic = c.dlqTopic ?? `${c.topic}.dlq`
    await this.#retry('dead-letter write', control, () =>
      deadLetters.write(dlqTopic, { record, topic: c.topic, partition, reason }),
    )
    this.ctx.logger.info('bad record sent to the dead-letter topic', { ...where, dlqTopic })
  }

  /** Uploads every open file of the partition, then commits past its last record. */
  async #flush(
    partition: number,
    state: PartitionState,
    epoch: number,
    control: BatchControl,
  ): Promise<void> {
    const c = this.#config
    const { rotation } = state
    const records = rotation.records
    const bytes = rotation.bytes
    const commitAt = state.lastOffset + 1
    const files = rotation.takeAll()
    try {
      for (const file of files) {
        const key = objectKey(file, c.topic, partition, c.format, c.compression)
        const { body, metadata } = await encodeFile(file, c.format, c.compression, c.sortBy !== null)
        await this.#retry(`upload of ${key}`, control, async () => {
          // Checked right before the side effect: a node that lost its lease writes nothing more.
          if (!this.ctx.isOwner()) throw new Abandoned('not the owner any more')
          await this.deps.sink.put(key, body, metadata, this.ctx.signal)
        })
        this.deps.metrics.filesWritten++
        this.deps.metrics.bytesArchived += body.length
      }
      this.deps.metrics.recordsArchived += records
      await this.#commit(partition, state, commitAt, epoch)
    } finally {
      this.deps.budget.release(records, bytes)
    }
  }

  async #commit(partition: number, state: PartitionState, offset: number, epoch: number): Promise<void> {
    // After a rebalance the group re-reads from the old commit; the re-upload uses the same names.
    if (epoch !== this.#epoch || !this.ctx.isOwner()) throw new Abandoned('rebalanced or not the owner')
    try {
      await this.deps.consumer.commit(partition, offset)
      state.committed = offset
    } catch (error) {
      this.ctx.logger.warn(
        'commit failed; the records will be read and uploaded again under the same names',
        {
          partition,
          offset,
          error: error instanceof Error ? error.message : String(error),
        },
      )
    }
  }

  /** Retries `work` with backoff until it succeeds; abandons when the partition or the process goes. */
  async #retry(what: string, control: BatchControl, work: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (!control.stillOwned() || this.ctx.signal.aborted) throw new Abandoned(what)
      try {
        await work()
        return
      } catch (error) {
        if (error instanceof Abandoned) throw error
        this.deps.metrics.uploadFailures++
        const delayMs = backoffDelay(attempt, { initialDelayMs: 200, maxDelayMs: 10_000 })
        this.ctx.logger.warn(`${what} failed; retrying`, {
          attempt,
          delayMs,
          error: error instanceof Error ? error.message : String(error),
        })
        const until = monotonicMs() + delayMs
        while (monotonicMs() < until && !this.ctx.signal.aborted) {
          await control.heartbeat().catch(() => {})
          await sleep(Math.min(1000, until - monotonicMs()), this.ctx.signal)
        }
      }
    }
  }

  /** At the in-flight bound: flush the largest buffer (this partition's if it is), then wait for room. */
  async #relieve(
    partition: number,
    state: PartitionState,
    epoch: number,
    control: BatchControl,
  ): Promise<void> {
    const largest = this.#largest()
    if (largest === partition && !state.rotation.isEmpty) await this.#flush(partition, state, epoch, control)
    else this.deps.budget.relieve()
    while (
      this.deps.budget.over() &&
      control.stillOwned() &&
      !this.ctx.signal.aborted &&
      epoch === this.#epoch
    ) {
      if (!state.rotation.isEmpty) {
        await this.#flush(partition, state, epoch, control)
        continue
      }
      await control.heartbeat().catch(() => {})
      await sleep(50, this.ctx.signal)
    }
  }

  #largest(): number | undefined {
    let best: number | undefined
    let bytes = 0
    for (const [partition, state] of this.#partitions) {
      if (state.rotation.bytes > bytes) {
        best = partition
        bytes = state.rotation.bytes
      }
    }
    return best
  }

  #idleControl(partition: number, epoch: number): BatchControl {
    return {
      heartbeat: async () => {},
      stillOwned: () => epoch === this.#epoch && this.#partitions.has(partition),
    }
  }

  #flushLargest(): Promise<void> {
    const partition = this.#largest()
    if (partition === undefined) return Promise.resolve()
    const epoch = this.#epoch
    return this.#withLock(partition, async () => {
      const state = this.#partitions.get(partition)
      if (!state || state.rotation.isEmpty || epoch !== this.#epoch) return
      await this.#flush(partition, state, epoch, this.#idleControl(partition, epoch))
    }).catch((error: unknown) => {
      if (!(error instanceof Abandoned))
        this.ctx.logger.warn('early flush failed', { partition, error: String(error) })
    })
  }

  async #flushOld(): Promise<void> {
    const now = monotonicMs()
    const epoch = this.#epoch
    for (const [partition, state] of this.#partitions) {
      if (!state.rotation.tooOld(now)) continue
      await this.#withLock(partition, async () => {
        if (epoch !== this.#epoch || !state.rotation.tooOld(monotonicMs())) return
        await this.#flush(partition, state, epoch, this.#idleControl(partition, epoch))
      }).catch((error: unknown) => {
        if (!(error instanceof Abandoned))
          this.ctx.logger.warn('age flush failed', { partition, error: String(error) })
      })
    }
  }

  async #reportLag(): Promise<void> {
    try {
      this.deps.metrics.lagByArchiver.set(this.deps.lagKey, await this.deps.consumer.lag())
    } catch {
      // Lag is informational; the next round tries again.
    }
  }
}
