// Plaintext sockets hand kafkajs whole responses, a large one read in place: the framer must cut
// any stream of responses, split anywhere by the reads, into exactly those responses, and kafkajs
// (with the empty-rest fix) must slice a whole response without copying it.
import { once } from 'node:events'
import { createRequire } from 'node:module'
import * as net from 'node:net'
import type { ISocketFactoryArgs } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { applyWholeResponseFix, framedSocketFactory, ResponseFramer } from '../../src/kafka/framedSocket.js'
import { mulberry32 } from '../helpers/prng.js'

const require = createRequire(import.meta.url)

/** A response as the broker frames it: a 4-byte size, then that many bytes (here a pattern of `seed`). */
function response(size: number, seed: number): Buffer {
  const frame = Buffer.allocUnsafe(4 + size)
  frame.writeInt32BE(size, 0)
  for (let i = 0; i < size; i++) frame[4 + i] = (seed + i * 7) & 0xff
  return frame
}

/**
 * What kafkajs passes for a plaintext connection: `ssl` undefined (its types say it is always
 * there).
 */
const plaintext = (port: number) =>
  ({ host: '127.0.0.1', port, onConnect: () => {} }) as unknown as ISocketFactoryArgs

const SIZES = [0, 5, 100, 70_000, 3, 2_000_000, 10, 65_532, 65_533, 1, 300_000]

describe('ResponseFramer', () => {
  it.each([1, 2, 3, 4, 5])(
    'cuts responses split at random read boundaries into the same responses, in order (seed %i)',
    (seed) => {
      const random = mulberry32(seed)
      const sent = SIZES.map((size, i) => response(size, i))
      const stream = Buffer.concat(sent)
      const got: Buffer[] = []
      const framer = new ResponseFramer((r) => got.push(r))
      const readInto: Buffer[] = []
      let at = 0
      while (at < stream.length) {
        const into = framer.buffer()
        readInto.push(into)
        // A read takes what the socket has: anything from one byte to the whole buffer.
        const bytes = Math.min(
          into.length,
          stream.length - at,
          random.chance(0.3) ? random.int(1, 8) : random.int(1, 200_000),
        )
        stream.copy(into, 0, at, at + bytes)
        framer.read(bytes)
        at += bytes
      }
      expect(got.map((r) => r.length)).toEqual(sent.map((r) => r.length))
      expect(got.every((r, i) => r.equals(sent[i] as Buffer))).toBe(true)
      // The large responses were read into their own buffers, not copied there after the read.
      for (const large of got.filter((r) => r.length > 64 * 1024))
        expect(readInto.some((into) => into.buffer === large.buffer)).toBe(true)
    },
  )

  it('refuses a response of negative size (a corrupt stream) with a clear error', () => {
    const framer = new ResponseFramer(() => {})
    const into = framer.buffer()
    into.writeInt32BE(-5, 0)
    expect(() => framer.read(4)).toThrow('a Kafka response of negative size (-5): the stream is corrupt')
  })
})

describe('framedSocketFactory', () => {
  it("emits each response of a real loopback socket as one 'data' event", async () => {
    const sent = SIZES.map((size, i) => response(size, i + 10))
    const server = net.createServer((socket) => socket.end(Buffer.concat(sent)))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as net.AddressInfo
    try {
      const got: Buffer[] = []
      const socket = framedSocketFactory()(plaintext(port))
      socket.on('data', (data: Buffer) => got.push(data))
      await once(socket, 'end')
      expect(got.map((r) => r.length)).toEqual(sent.map((r) => r.length))
      expect(got.every((r, i) => r.equals(sent[i] as Buffer))).toBe(true)
    } finally {
      server.close()
    }
  })

  it('destroys the socket with that error when the stream is corrupt', async () => {
    const server = net.createServer((socket) => socket.end(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2])))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as net.AddressInfo
    try {
      const socket = framedSocketFactory()(plaintext(port))
      const [error] = (await once(socket, 'error')) as [Error]
      expect(error.message).toContain('negative size (-16)')
      expect(socket.destroyed).toBe(true)
    } finally {
      server.close()
    }
  })
})

describe('applyWholeResponseFix', () => {
  it('lets kafkajs 2.2.4 slice a whole response after an earlier one, without copying it', () => {
    expect(applyWholeResponseFix()).toBe(true)
    const Connection = require('kafkajs/src/network/connection.js') as {
      prototype: { processData(this: object, data: Buffer): void }
    }
    const payloads: Buffer[] = []
    // The state kafkajs leaves after a response: the empty rest of the last chunk.
    const connection = {
      chunks: [Buffer.alloc(0)],
      bytesBuffered: 0,
      bytesNeeded: 4,
      requestQueue: { fulfillRequest: ({ payload }: { payload: Buffer }) => payloads.push(payload) },
    }
    const whole = Buffer.allocUnsafe(4 + 4 + 1000)
    whole.writeInt32BE(1004, 0)
    whole.writeInt32BE(42, 4) // the correlation id
    whole.fill(9, 8)
    Connection.prototype.processData.call(connection, whole)
    expect(payloads).toHaveLength(1)
    const payload = payloads[0] as Buffer
    expect(payload.length).toBe(1000)
    expect(payload.every((b) => b === 9)).toBe(true)
    expect(payload.buffer).toBe(whole.buffer)
  })
})
