import { createRequire } from 'node:module'

// kafkajs 2.2.4 decodes each record of a fetch with a Decoder object of its own and 64-bit `Long`
// arithmetic: the batch's first offset and timestamp are parsed from strings again for every
// record, added to, and printed back (`Long.fromString`/`toString`: a fifth of the decoding time
// of an archiver's main thread). This decoder reads uncompressed record batches in one pass with
// plain numbers and builds exactly the objects kafkajs builds; anything else (compressed batches,
// values past 2^53) goes to kafkajs's own code.

const require = createRequire(import.meta.url)

/** kafkajs's Decoder, as far as the batch decoder uses it. */
interface KafkajsDecoder {
  buffer: Buffer
  offset: number
  readInt8(): number
  readInt16(): number
  readInt32(): number
  readInt64(): { toString(): string }
  readVarIntArray<T>(reader: (decoder: KafkajsDecoder) => T): T[]
  slice(size: number): KafkajsDecoder
  forward(size: number): void
}

type BatchDecoder = (fetchDecoder: KafkajsDecoder) => Promise<unknown>

export interface Kafkajs {
  readonly Decoder: new (buffer: Buffer) => KafkajsDecoder
  readonly original: BatchDecoder
  readonly decodeHeader: (decoder: KafkajsDecoder) => { key: string; value: Buffer | null }
  readonly PartialMessageError: new (message: string) => Error
  readonly LOG_APPEND_TIME: number
  readonly CREATE_TIME: number
}

const BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js'
/** Where a record batch's attributes are: after firstOffset (8), length (4), leader epoch (4), magic (1), CRC (4). */
const ATTRIBUTES_AT = 21
const COMPRESSION_MASK = 0x07
const TIMESTAMP_TYPE_FLAG_MASK = 0x8
const TRANSACTIONAL_FLAG_MASK = 0x10
const CONTROL_FLAG_MASK = 0x20

let applied = false

/**
 * Puts the fast decoder in place of kafkajs's record batch decoder. Must run before kafkajs first
 * decodes a fetch (it loads that decoder lazily); later, or on another kafkajs version, kafkajs is
 * left as it is. Returns whether the fast decoder is in place.
 */
export function applyFastRecordDecode(): boolean {
  if (applied) return isApplied()
  applied = true
  try {
    const { version } = require('kafkajs/package.json') as { version: string }
    const path = require.resolve(BATCH_DECODER)
    if (version !== '2.2.4' || path in require.cache) return false
    const kafkajs = loadKafkajs()
    const entry = require.cache[path]
    if (entry === undefined) return false
    entry.exports = fastBatchDecoder(kafkajs)
    return true
  } catch {
    // A layout we do not know: leave kafkajs as it is.
    return false
  }
}

function isApplied(): boolean {
  const path = require.resolve(BATCH_DECODER)
  return (require.cache[path]?.exports as { fast?: boolean } | undefined)?.fast === true
}

/** kafkajs's own parts the fast decoder uses or falls back to. */
export function loadKafkajs(): Kafkajs {
  const errors = require('kafkajs/src/errors.js') as {
    KafkaJSPartialMessageError: Kafkajs['PartialMessageError']
  }
  const timestampTypes = require('kafkajs/src/protocol/timestampTypes.js') as {
    LOG_APPEND_TIME: number
    CREATE_TIME: number
  }
  const loaded = require(BATCH_DECODER) as BatchDecoder & { kafkajs?: Kafkajs }
  // In place already: what it was made from.
  if (loaded.kafkajs !== undefined) return loaded.kafkajs
  return {
    Decoder: require('kafkajs/src/protocol/decoder.js') as Kafkajs['Decoder'],
    original: loaded,
    decodeHeader: require('kafkajs/src/protocol/recordBatch/header/v0/decoder.js') as Kafkajs['decodeHeader'],
    PartialMessageError: errors.KafkaJSPartialMessageError,
    LOG_APPEND_TIME: timestampTypes.LOG_APPEND_TIME,
    CREATE_TIME: timestampTypes.CREATE_TIME,
  }
}

/** The decoder, exported for the test that compares it with kafkajs's own. */
export function fastBatchDecoder(k: Kafkajs): BatchDecoder & { fast: true; kafkajs: Kafkajs } {
  const decode = async (fetchDecoder: KafkajsDecoder): Promise<unknown> => {
    const at = fetchDecoder.offset + ATTRIBUTES_AT
    const buffer = fetchDecoder.buffer
    if (at + 2 > buffer.length || (buffer.readInt16BE(at) & COMPRESSION_MASK) !== 0)
      return k.original(fetchDecoder)
    const start = fetchDecoder.offset
    const firstOffset = fetchDecoder.readInt64().toString()
    const length = fetchDecoder.readInt32()
    const decoder = fetchDecoder.slice(length)
    fetchDecoder.forward(length)
    const remainingBytes = decoder.buffer.length
    if (remainingBytes < length) {
      throw new k.PartialMessageError(
        `Tried to decode a partial record batch: remainingBytes(${remainingBytes}) < recordBatchLength(${length})`,
      )
    }
    const partitionLeaderEpoch = decoder.readInt32()
    const magicByte = decoder.readInt8()
    decoder.readInt32() // CRC: kafkajs does not check it either
    const attributes = decoder.readInt16()
    const lastOffsetDelta = decoder.readInt32()
    const firstTimestamp = decoder.readInt64().toString()
    const maxTimestamp = decoder.readInt64().toString()
    const producerId = decoder.readInt64().toString()
    const producerEpoch = decoder.readInt16()
    const firstSequence = decoder.readInt32()
    const recordContext = {
      firstOffset,
      firstTimestamp,
      partitionLeaderEpoch,
      inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
      isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
      lastOffsetDelta,
      producerId,
      producerEpoch,
      firstSequence,
      maxTimestamp,
      timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? k.LOG_APPEND_TIME : k.CREATE_TIME,
    }
    const records = decodeRecords(k, decoder, { ...recordContext, magicByte })
    if (records === undefined) {
      // A value plain numbers cannot hold: kafkajs decodes this batch itself.
      fetchDecoder.offset = start
      return k.original(fetchDecoder)
    }
    return { ...recordContext, records }
  }
  return Object.assign(decode, { fast: true as const, kafkajs: k })
}

interface RecordContext {
  readonly firstOffset: string
  readonly firstTimestamp: string
  readonly maxTimestamp: string
  readonly timestampType: number
  readonly isControlBatch: boolean
  readonly magicByte: number
}

/** The records of an uncompressed batch, or undefined when an offset or timestamp is past 2^53. */
function decodeRecords(k: Kafkajs, decoder: KafkajsDecoder, context: RecordContext): unknown[] | undefined {
  const count = decoder.readInt32()
  if (count === -1) return []
  const baseOffset = Number(context.firstOffset)
  const baseTimestamp = Number(context.firstTimestamp)
  if (!Number.isSafeInteger(baseOffset) || !Number.isSafeInteger(baseTimestamp)) return
  const appendTime = context.timestampType === k.LOG_APPEND_TIME && context.maxTimestamp !== ''
  const buffer = decoder.buffer
  let at = decoder.offset
  // A zigzag varint (32 bits), read exactly as kafkajs reads it.
  const varInt = (): number => {
    let byte: number
    let result = 0
    let shift = 0
    do {
      byte = buffer[at++] as number
      result += (byte & 0x7f) << shift
      shift += 7
    } while (byte >= 0x80)
    return (result >>> 1) ^ -(result & 1)
  }
  // A zigzag varlong while a double holds it exactly (7 bytes: |value| < 2^48), else NaN.
  const varLong = (): number => {
    let byte: number
    let result = 0
    let scale = 1
    let read = 0
    do {
      if (++read > 7) return Number.NaN
      byte = buffer[at++] as number
      result += (byte & 0x7f) * scale
      scale *= 128
    } while (byte >= 0x80)
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2
  }
  const bytes = (): Buffer | null => {
    const length = varInt()
    if (length === -1) return null
    at += length
    return buffer.subarray(at - length, at)
  }
  const records = new Array<unknown>(count)
  for (let i = 0; i < count; i++) {
    // Record => Length Attributes TimestampDelta OffsetDelta Key Value Headers.
    const size = varInt()
    const end = at + size
    const attributes = buffer.readInt8(at++)
    const timestampDelta = varLong()
    if (Number.isNaN(timestampDelta)) return
    const offset = baseOffset + varInt()
    const key = bytes()
    const value = bytes()
    const headersAt = at
    const headerCount = varInt()
    const timestamp = appendTime ? context.maxTimestamp : baseTimestamp + timestampDelta
    if (!Number.isSafeInteger(offset) || (typeof timestamp === 'number' && !Number.isSafeInteger(timestamp)))
      return
    records[i] = {
      magicByte: context.magicByte,
      attributes,
      timestamp: String(timestamp),
      offset: String(offset),
      key,
      value,
      headers: headerCount > 0 ? decodeHeaders(k, buffer, headersAt) : {},
      isControlRecord: context.isControlBatch,
      batchContext: context,
    }
    at = end
  }
  decoder.offset = at
  return records
}

/** kafkajs's own header decoding and merging (a repeated key becomes an array). */
function decodeHeaders(
  k: Kafkajs,
  buffer: Buffer,
  at: number,
): Record<string, Buffer | null | (Buffer | null)[]> {
  const decoder = new k.Decoder(buffer)
  decoder.offset = at
  const headers: Record<string, Buffer | null | (Buffer | null)[]> = {}
  for (const { key, value } of decoder.readVarIntArray(k.decodeHeader)) {
    const seen = headers[key]
    headers[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]
  }
  return headers
}
