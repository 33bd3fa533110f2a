// A shard's state: per conversation, the next sequence number and the last K messages. It lives in
// memory and in the shard's partition of a compacted changelog topic, which is the only copy that
// survives a crash. Changes are staged in a Draft and applied only after their transaction committed.
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { ChatterEntry } from './messages.js'

/** The state of one conversation. */
export interface Conversation {
  /** The next `conversationMsgSeq` to hand out: every smaller one is used, forever. */
  readonly next: number
  /** The last (up to K) messages, oldest first, with consecutive sequence numbers ending at next − 1. */
  readonly recent: readonly ChatterEntry[]
}

/*
 * Changelog records. A message is stored under the slot `seq mod K` of its conversation, so
 * compaction keeps exactly the last K messages of every conversation and each message is written
 * once (a whole-conversation snapshot per message would write K times as much). The highest
 * sequence number is never compacted away (it is the newest value of its slot), so `next` is
 * recovered as max + 1 and is never reused. One checkpoint record per transaction holds the input
 * offsets that the state reflects, written atomically with it.
 */
const SlotKeyCodec = t.tuple([t.literal('m'), t.string, t.number])
const CheckpointKeyCodec = t.tuple([t.literal('checkpoint')])
const EntryCodec = t.tuple([t.string, t.string, t.number])
const CheckpointCodec = t.type({ messages: t.number, requests: t.number })

/** Input offsets (next to read) that a state reflects, per input role. */
export type Checkpoint = t.TypeOf<typeof CheckpointCodec>

/** A changelog record to write (key and value as JSON text). */
export interface ChangelogRecord {
  readonly key: string
  readonly value: string
}

/** The changelog record of one message: its conversation's slot `seq mod K`. */
export function slotRecord(
  conversationKey: string,
  entry: ChatterEntry,
  historySize: number,
): ChangelogRecord {
  return {
    key: JSON.stringify(['m', conversationKey, entry[2] % historySize]),
    value: JSON.stringify(entry),
  }
}

/** The changelog record of the input offsets a state reflects. */
export function checkpointRecord(checkpoint: Checkpoint): ChangelogRecord {
  return { key: JSON.stringify(['checkpoint']), value: JSON.stringify(checkpoint) }
}

/** A changelog record, decoded. */
export type ChangelogEntry =
  | { readonly kind: 'message'; readonly conversationKey: string; readonly entry: ChatterEntry }
  | { readonly kind: 'checkpoint'; readonly checkpoint: Checkpoint }

function parse(buffer: Buffer | null): unknown {
  if (buffer === null) return null
  try {
    return JSON.parse(buffer.toString('utf8'))
  } catch {
    return undefined
  }
}

/**
 * Decodes one changelog record; throws when it does not decode. The changelog is ours: a record we
 * cannot read could hide the highest sequence number, so restoring past it could reuse one.
 */
export function decodeChangelog(key: Buffer | null, value: Buffer | null, offset: string): ChangelogEntry {
  const k = parse(key)
  const v = parse(value)
  const slot = SlotKeyCodec.decode(k)
  if (!isLeft(slot)) {
    const entry = EntryCodec.decode(v)
    if (!isLeft(entry) && entry.right[2] >= 0 && Number.isSafeInteger(entry.right[2])) {
      return { kind: 'message', conversationKey: slot.right[1], entry: entry.right }
    }
  } else if (!isLeft(CheckpointKeyCodec.decode(k))) {
    const checkpoint = CheckpointCodec.decode(v)
    if (!isLeft(checkpoint)) return { kind: 'checkpoint', checkpoint: checkpoint.right }
  }
  throw new Error(`changelog record at offset ${offset} does not decode (key ${key?.toString('utf8')})`)
}

/** Rebuilds a shard's state from its changelog records, in any number of calls, in offset order. */
export class Restorer {
  readonly #entries = new Map<string, Map<number, ChatterEntry>>()
  #checkpoint: Checkpoint = { messages: 0, requests: 0 }
  records = 0

  constructor(private readonly historySize: number) {}

  add(entry: ChangelogEntry): void {
    this.records++
    if (entry.kind === 'checkpoint') {
      this.#checkpoint = entry.checkpoint
      return
    }
    let slots = this.#entries.get(entry.conversationKey)
    if (!slots) {
      slots = new Map()
      this.#entries.set(entry.conversationKey, slots)
    }
    // Keyed by seq, not slot: re-reading a record is harmless, and a change of K cannot mix histories.
    slots.set(entry.entry[2], entry.entry)
  }

  /** The restored store and the input offsets it reflects. */
  result(): { store: ConversationStore; checkpoint: Checkpoint } {
    const store = new ConversationStore(this.historySize)
    for (const [conversationKey, slots] of this.#entries) {
      const seqs = [...slots.keys()].sort((a, b) => a - b)
      const next = (seqs.at(-1) ?? -1) + 1
      const recent: ChatterEntry[] = []
      // Only the consecutive run that ends at the newest: that is the history K guarantees.
      for (let seq = next - 1; seq >= 0 && recent.length < this.historySize; seq--) {
        const entry = slots.get(seq)
        if (!entry) break
        recent.push(entry)
      }
      store.set(conversationKey, { next, recent: recent.reverse() })
    }
    return { store, checkpoint: this.#checkpoint }
  }
}

/** Every conversation of one shard. */
export class ConversationStore {
  readonly #conversations = new Map<string, Conversation>()

  constructor(readonly historySize: number) {}

  get(conversationKey: string): Conversation | undefined {
    return this.#conversations.get(conversationKey)
  }

  set(conversationKey: string, conversation: Conversation): void {
    this.#conversations.set(conversationKey, conversation)
  }

  get size(): number {
    return this.#conversations.size
  }

  /** Stages changes on top of this store; nothing is visible here until `apply()`. */
  draft(): Draft {
    return new Draft(this)
  }
}

/** Changes of one batch, staged until its transaction committed. */
export class Draft {
  readonly #changed = new Map<string, { next: number; recent: ChatterEntry[] }>()

  constructor(private readonly store: ConversationStore) {}

  #conversation(conversationKey: string): { next: number; recent: ChatterEntry[] } {
    let conversation = this.#changed.get(conversationKey)
    if (!conversation) {
      const base = this.store.get(conversationKey)
      conversation = { next: base?.next ?? 0, recent: [...(base?.recent ?? [])] }
      this.#changed.set(conversationKey, conversation)
    }
    return conversation
  }

  /** Hands out the conversation's next sequence number for this message and records it in the history. */
  append(conversationKey: string, sender: string, body: string): ChatterEntry {
    const conversation = this.#conversation(conversationKey)
    const entry: ChatterEntry = [sender, body, conversation.next]
    conversation.next++
    conversation.recent.push(entry)
    if (conversation.recent.length > this.store.historySize) conversation.recent.shift()
    return entry
  }

  /** The last `count` messages (oldest first), as of this point of the batch. */
  latest(conversationKey: string, count: number): ChatterEntry[] {
    const recent = this.#changed.get(conversationKey)?.recent ?? this.store.get(conversationKey)?.recent ?? []
    return recent.slice(Math.max(0, recent.length - count))
  }

  /** Makes the staged changes the store's state (call only after the transaction committed). */
  apply(): void {
    for (const [conversationKey, conversation] of this.#changed) this.store.set(conversationKey, conversation)
  }
}
