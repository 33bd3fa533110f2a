import { createHash } from 'node:crypto'
import type { Process, ProcessSource } from './process.js'
import type { KeyedProcesses } from './processGroup.js'

/**
 * FNV-1a (32-bit) of the key's UTF-8 bytes: stable across nodes, versions and restarts, so a key
 * always lands on the same partition.
 */
export function stableHash(key: string): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash >>> 0
}

/** The partition of a dynamic process's key. */
export function partitionOfKey(key: string, partitions: number): number {
  return stableHash(key) % partitions
}

/** A mutable keyed process set: the simplest `ProcessSource`. */
export class ProcessSet implements ProcessSource {
  readonly #processes = new Map<string, Process>()
  readonly #listeners = new Set<() => void>()

  constructor(initial: Iterable<readonly [string, Process]> = []) {
    for (const [key, process] of initial) this.#processes.set(key, process)
  }

  current(): ReadonlyMap<string, Process> {
    return this.#processes
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Adds or replaces the process under `key` (a replaced one restarts). */
  set(key: string, process: Process): void {
    this.#processes.set(key, process)
    this.#notify()
  }

  delete(key: string): boolean {
    const had = this.#processes.delete(key)
    if (had) this.#notify()
    return had
  }

  #notify(): void {
    for (const listener of this.#listeners) listener()
  }
}

/**
 * What identifies a static list across nodes: its length and the source text of its processes. A
 * node whose list differs (a rolling deploy inserted a process) would run some process in another
 * slice than the others do; the leader gives it nothing (see assignmentPlan.ts).
 */
export function listFingerprint(list: readonly Process[]): string {
  const hash = createHash('sha256')
  for (const process of list) hash.update(process.toString()).update('\0')
  return `static:${list.length}:${hash.digest('hex').slice(0, 16)}`
}

/** KDP slicing of a static list: process i belongs to partition i mod N, keyed by its index. */
export function staticProcesses(
  list: readonly Process[],
  partitions: number,
  fingerprint = listFingerprint(list),
): KeyedProcesses {
  const byPartition = new Map<number, Map<string, Process>>()
  list.forEach((process, index) => {
    const p = index % partitions
    const slice = byPartition.get(p) ?? new Map<string, Process>()
    slice.set(String(index), process)
    byPartition.set(p, slice)
  })
  const empty: ReadonlyMap<string, Process> = new Map()
  return { byPartition: (p) => byPartition.get(p) ?? empty, subscribe: () => () => {}, fingerprint }
}

/** A dynamic source sliced by the stable hash of each key. */
export function dynamicProcesses(source: ProcessSource, partitions: number): KeyedProcesses {
  return {
    byPartition: (p) => {
      const slice = new Map<string, Process>()
      for (const [key, process] of source.current())
        if (partitionOfKey(key, partitions) === p) slice.set(key, process)
      return slice
    },
    subscribe: (listener) => source.subscribe(listener),
    // Keys map to partitions by a stable hash: only the partition count must agree.
    fingerprint: 'dynamic',
  }
}
