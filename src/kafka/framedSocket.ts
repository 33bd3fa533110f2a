import { createRequire } from 'node:module'
import * as net from 'node:net'
import type { ISocketFactory } from 'kafkajs'

// kafkajs 2.2.4 reads a socket in 64 KiB chunks and joins the chunks of a response with
// Buffer.concat: every fetched byte is allocated twice and copied once on the main thread (a tenth
// of an archiver's main thread, and most of the garbage collections that external memory forces).
// A plaintext socket can read into memory we give it (net's `onread`): once a response's size is
// known, the rest of it is read straight into one buffer of that size, and kafkajs is handed whole
// responses, which it slices without copying.

const require = createRequire(import.meta.url)

/** Reads before a response's size is known go here; what follows the size is copied out of it. */
const HEAD_BYTES = 64 * 1024
const SIZE_BYTES = 4
/** A socket is kept alive as kafkajs's own factory does. */
const KEEP_ALIVE_DELAY_MS = 60_000

/**
 * Cuts a Kafka response stream into whole responses (a 4-byte size, then that many bytes), reading
 * the body of a large one in place. `emit` gets each response, size included, as its own Buffer.
 */
export class ResponseFramer {
  readonly #head = Buffer.allocUnsafe(HEAD_BYTES)
  /** Bytes of `#head` that hold data, and where the unread part begins. */
  #headEnd = 0
  #headAt = 0
  /** The response being read in place, and how much of it is filled. */
  #frame: Buffer | undefined
  #filled = 0

  constructor(private readonly emit: (response: Buffer) => void) {}

  /** Where the next read goes. */
  buffer(): Buffer {
    const frame = this.#frame
    if (frame !== undefined) return frame.subarray(this.#filled)
    if (this.#headAt > 0) {
      // Keep the unread start of a response at the head's start, so the next read has room.
      this.#head.copyWithin(0, this.#headAt, this.#headEnd)
      this.#headEnd -= this.#headAt
      this.#headAt = 0
    }
    return this.#head.subarray(this.#headEnd)
  }

  /** `bytes` were read into the last buffer(). */
  read(bytes: number): void {
    const frame = this.#frame
    if (frame !== undefined) {
      this.#filled += bytes
      if (this.#filled === frame.length) {
        this.#frame = undefined
        this.emit(frame)
      }
      return
    }
    this.#headEnd += bytes
    this.#cutHead()
  }

  #cutHead(): void {
    const head = this.#head
    while (this.#headEnd - this.#headAt >= SIZE_BYTES) {
      const at = this.#headAt
      const size = head.readInt32BE(at)
      if (size < 0) throw new Error(`a Kafka response of negative size (${size}): the stream is corrupt`)
      const length = SIZE_BYTES + size
      const held = this.#headEnd - at
      if (held >= length) {
        this.emit(Buffer.from(head.subarray(at, at + length)))
        this.#headAt += length
        continue
      }
      if (length <= HEAD_BYTES) return // the rest comes into the head
      // A large response: its start moves to a buffer of its own, the rest is read into that.
      const frame = Buffer.allocUnsafe(length)
      head.copy(frame, 0, at, this.#headEnd)
      this.#frame = frame
      this.#filled = held
      this.#headAt = 0
      this.#headEnd = 0
      return
    }
    if (this.#headAt === this.#headEnd) {
      this.#headAt = 0
      this.#headEnd = 0
    }
  }
}

/**
 * kafkajs's socket factory, except that a plaintext socket hands kafkajs whole responses read in
 * place (see above); TLS sockets are kafkajs's own.
 */
export function framedSocketFactory(): ISocketFactory {
  const kafkajsFactory = (require('kafkajs/src/network/socketFactory.js') as () => ISocketFactory)()
  return (args) => {
    if (args.ssl) return kafkajsFactory(args)
    let socket: net.Socket | undefined
    const framer = new ResponseFramer((response) => socket?.emit('data', response))
    socket = net.connect(
      {
        host: args.host,
        port: args.port,
        onread: {
          buffer: () => framer.buffer(),
          callback: (bytes) => {
            try {
              framer.read(bytes)
            } catch (error) {
              socket?.destroy(error instanceof Error ? error : new Error(String(error)))
            }
            return true
          },
        },
      },
      args.onConnect,
    )
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS)
    return socket
  }
}

interface KafkajsConnection {
  chunks: Buffer[]
  processData(data: Buffer): void
}

let applied = false

/**
 * kafkajs 2.2.4 keeps the empty rest of the last response as a chunk, so even a whole response
 * would be joined with it (copied). Dropping that empty chunk first changes nothing else. Applied
 * once, only to the exact kafkajs version this was written for; returns whether it is in place.
 */
export function applyWholeResponseFix(): boolean {
  if (applied) return isApplied()
  applied = true
  try {
    const { version } = require('kafkajs/package.json') as { version: string }
    if (version !== '2.2.4') return false
    const connection = require('kafkajs/src/network/connection.js') as { prototype: KafkajsConnection }
    const original = connection.prototype.processData
    if (typeof original !== 'function') return false
    const fixed = function (this: KafkajsConnection, data: Buffer): void {
      if (this.chunks.length === 1 && this.chunks[0]?.length === 0) this.chunks = []
      original.call(this, data)
    }
    connection.prototype.processData = Object.assign(fixed, { wholeResponses: true })
    return true
  } catch {
    // A layout we do not know: leave kafkajs as it is.
    return false
  }
}

function isApplied(): boolean {
  const connection = require('kafkajs/src/network/connection.js') as { prototype: KafkajsConnection }
  return (connection.prototype.processData as { wholeResponses?: boolean }).wholeResponses === true
}
