import type { Process, ProcessSource } from '../coordination/process.js'
import type { ConfigStore } from './state/stores.js'
import type { SinkSpec, TopicConfig } from './state/topicConfig.js'

/** Builds the archiver process for one (topic, sink, parallelism index) from its config. */
export type ArchiverFactory = (config: TopicConfig, sink: SinkSpec, index: number) => Process

/** `topic|sink|index`: the key of one archiver in the dynamic process set. */
export function archiverKey(topic: string, sinkId: string, index: number): string {
  return `${topic}|${sinkId}|${index}`
}

/**
 * The archivers every node should run, derived from the config store: one process per topic × sink
 * × parallelism index of every config that is not paused. A key keeps its process (same function)
 * while its topic's config record is unchanged, so a config change restarts only that topic's archivers.
 */
export class ArchiverSet implements ProcessSource {
  #current = new Map<string, Process>()
  readonly #built = new Map<string, { record: string; revision: number; process: Process }>()
  readonly #listeners = new Set<() => void>()
  readonly #unsubscribe: () => void

  constructor(
    private readonly configs: ConfigStore,
    private readonly factory: ArchiverFactory,
  ) {
    this.#rebuild()
    this.#unsubscribe = configs.subscribe(() => {
      this.#rebuild()
      for (const listener of this.#listeners) listener()
    })
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
    this.#unsubscribe()
  }

  #rebuild(): void {
    const next = new Map<string, Process>()
    for (const config of this.configs.list()) {
      if (config.paused) continue
      const record = JSON.stringify(config)
      for (const sink of config.sinks) {
        for (let index = 0; index < config.parallelism; index++) {
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
