import type { Process, ProcessSource } from '../coordination/process.js'
import type { ConfigStore } from './state/stores.js'
import type { SinkSpec, TopicConfig } from './state/topicConfig.js'

/**
 * Builds the archiver process for one (topic, sink, slot) from its config. A factory that can quiesce
 * its archivers (the real one) lets a drain finish their uploads before it hands them over.
 */
export type ArchiverFactory = ((config: TopicConfig, sink: SinkSpec, index: number) => Process) & {
  quiesce?(
    waitMs: number,
  ): Promise<{ readonly archivers: number; readonly reReadRecords: number; readonly uncutRecords: number }>
  resume?(): void
}

/** `topic|sink|index`: the key of one archiver in the dynamic process set. */
export function archiverKey(topic: string, sinkId: string, index: number): string {
  return `${topic}|${sinkId}|${index}`
}

/** Where the slots of topics with parallelism `auto` come from (the scaler's placements). */
export interface SlotSource {
  /** The slots of one topic × sink, or undefined when none were placed yet. */
  slotsOf(topic: string, sinkId: string): readonly number[] | undefined
  subscribe(listener: () => void): () => void
}

/** The slots (the last part of the archiver keys) of one topic × sink. */
export function slotsOf(
  config: TopicConfig,
  sinkId: string,
  placements: SlotSource | undefined,
): readonly number[] {
  if (config.parallelism !== 'auto') return Array.from({ length: config.parallelism }, (_, i) => i)
  // Until the scaler places it, `auto` is one instance.
  return placements?.slotsOf(config.topic, sinkId) ?? [0]
}

/**
 * The archivers every node should run, derived from the config store: one process per topic × sink
 * × slot of every config that is not paused (slots 0..n-1 for a parallelism n; the scaler's
 * placement for `auto`). A key keeps its process (same function) while its topic's config record is
 * unchanged, so a config change restarts only that topic's archivers, and a placement change starts
 * or stops only the slots it adds or removes.
 */
export class ArchiverSet implements ProcessSource {
  #current = new Map<string, Process>()
  readonly #built = new Map<string, { record: string; revision: number; process: Process }>()
  readonly #listeners = new Set<() => void>()
  readonly #unsubscribe: Array<() => void>

  constructor(
    private readonly configs: ConfigStore,
    private readonly factory: ArchiverFactory,
    private readonly placements?: SlotSource,
  ) {
    this.#rebuild()
    const changed = () => {
      this.#rebuild()
      for (const listener of this.#listeners) listener()
    }
    this.#unsubscribe = [configs.subscribe(changed), ...(placements ? [placements.subscribe(changed)] : [])]
  }

  current(): ReadonlyMap<string, Process> {
    return this.#current
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The config revision a key's running process was built from. */
  revisionOf(key: string): number | undefined {
    return this.#built.get(key)?.revision
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
  }

  #rebuild(): void {
    const next = new Map<string, Process>()
    for (const config of this.configs.list()) {
      if (config.paused) continue
      const record = JSON.stringify(config)
      for (const sink of config.sinks) {
        for (const index of slotsOf(config, sink.id, this.placements)) {
          const key = archiverKey(config.topic, sink.id, index)
          let built = this.#built.get(key)
          if (!built || built.record !== record) {
            built = { record, revision: config.revision, process: this.factory(config, sink, index) }
            this.#built.set(key, built)
          }
          next.set(key, built.process)
        }
      }
    }
    for (const key of this.#built.keys()) if (!next.has(key)) this.#built.delete(key)
    this.#current = next
  }
}
