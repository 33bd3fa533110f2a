// The chat's wire formats, decoded with io-ts at the boundary. Anything that does not decode is a
// dead letter with a reason, never an exception: one bad record must not stop a shard.
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { type FieldError, ValidationError } from '../../src/index.js'

/** Limits on input, so that every output record stays far below Kafka's 1 MiB default record size. */
export interface ChatLimits {
  /** Input records larger than this are dead letters before any parsing. Default 64 KiB. */
  readonly maxRecordBytes: number
  /** UTF-8 bytes of `body`. Default 4096. */
  readonly maxBodyBytes: number
  /** UTF-8 bytes of `conversationKey` and of `sender` and each recipient. Default 256. */
  readonly maxNameBytes: number
  /** Entries of `recipients`. Default 100. */
  readonly maxRecipients: number
}

/** The limits the example runs with unless told otherwise. */
export const defaultLimits: ChatLimits = {
  maxRecordBytes: 64 * 1024,
  maxBodyBytes: 4096,
  maxNameBytes: 256,
  maxRecipients: 100,
}

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8')

function name(max: number): t.Type<string, string, unknown> {
  return t.refinement(t.string, (s) => s.length > 0 && utf8Bytes(s) <= max, `a string of 1 to ${max} bytes`)
}

/** The codecs for the given limits (the limits are part of the type, so they are in every reason). */
export function chatCodecs(limits: ChatLimits = defaultLimits) {
  const instantMessage = t.type({
    conversationKey: name(limits.maxNameBytes),
    sender: name(limits.maxNameBytes),
    recipients: t.refinement(
      t.array(name(limits.maxNameBytes)),
      (a) => a.length <= limits.maxRecipients,
      `an array of at most ${limits.maxRecipients} names`,
    ),
    body: t.refinement(
      t.string,
      (s) => utf8Bytes(s) <= limits.maxBodyBytes,
      `a string of at most ${limits.maxBodyBytes} bytes`,
    ),
  })
  const latestMessagesRequest = t.type({
    conversationKey: name(limits.maxNameBytes),
    numMsgs: t.refinement(t.number, (n) => Number.isSafeInteger(n) && n > 0, 'a positive integer'),
  })
  return { instantMessage, latestMessagesRequest }
}

/** `{"conversationKey","sender","recipients","body"}` on `instant_message_in`. */
export interface InstantMessage {
  readonly conversationKey: string
  readonly sender: string
  readonly recipients: readonly string[]
  readonly body: string
}

/** `{"conversationKey","numMsgs"}` on `latest_messages_request`. */
export interface LatestMessagesRequest {
  readonly conversationKey: string
  readonly numMsgs: number
}

/** One entry of `latestChatter`: `[sender, body, conversationMsgSeq]`. */
export type ChatterEntry = readonly [sender: string, body: string, seq: number]

/** A decoded value, or the reason it is a dead letter. */
export type Decoded<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly reason: string }

function describe(value: unknown): string {
  if (value === undefined) return 'missing'
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** io-ts errors as field paths (`recipients.2`) with the expected type, one per path. */
export function fieldErrors(errors: t.Errors): FieldError[] {
  const byPath = new Map<string, FieldError>()
  for (const error of errors) {
    const path = error.context
      .slice(1)
      .map((entry) => entry.key)
      .join('.')
    if (byPath.has(path)) continue
    const expected = error.context[error.context.length - 1]?.type.name ?? 'a valid value'
    byPath.set(path, { path, message: `expected ${expected}, got ${describe(error.value)}` })
  }
  return [...byPath.values()]
}

/** Decodes `input` with `codec` or throws a ValidationError (kdp's) naming every bad field. */
export function decodeOrThrow<A, O>(codec: t.Type<A, O, unknown>, input: unknown, what: string): A {
  const result = codec.decode(input)
  if (isLeft(result)) throw new ValidationError(what, fieldErrors(result.left))
  return result.right
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Bytes of a record value → a value of `codec`, or the reason (size, UTF-8, JSON, then every bad field). */
export function decodeRecord<A, O>(
  codec: t.Type<A, O, unknown>,
  value: Buffer | null,
  what: string,
  limits: ChatLimits,
): Decoded<A> {
  if (value === null) return { ok: false, reason: 'no value (a tombstone)' }
  if (value.length > limits.maxRecordBytes) {
    return { ok: false, reason: `record too large: ${value.length} bytes (max ${limits.maxRecordBytes})` }
  }
  let text: string
  try {
    text = strictUtf8.decode(value)
  } catch {
    return { ok: false, reason: 'not UTF-8 text' }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
  }
  try {
    return { ok: true, value: decodeOrThrow(codec, json, what) }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) }
  }
}

/** The `instant_message_out` value: the input's fields plus its sequence number. */
export function encodeOutput(message: InstantMessage, seq: number): string {
  return JSON.stringify({
    conversationKey: message.conversationKey,
    sender: message.sender,
    recipients: message.recipients,
    body: message.body,
    conversationMsgSeq: seq,
  })
}

/** The `latest_messages_block` value. */
export function encodeBlock(conversationKey: string, latestChatter: readonly ChatterEntry[]): string {
  return JSON.stringify({ conversationKey, latestChatter })
}

/** Codecs of what the service itself writes, for readers (tests, the tool): decoded, not trusted. */
export const OutputCodec = t.type({
  conversationKey: t.string,
  sender: t.string,
  recipients: t.array(t.string),
  body: t.string,
  conversationMsgSeq: t.number,
})
export const BlockCodec = t.type({
  conversationKey: t.string,
  latestChatter: t.array(t.tuple([t.string, t.string, t.number])),
})
