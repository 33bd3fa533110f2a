// The service's own HTTP API (node:http, nothing else): health, this node's shards, and a way in for
// messages. It is the part a real service already had; kdp runs beside it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Producer } from 'kafkajs'
import type { Logger, ProcessingHandle } from '../../src/index.js'
import { settleWithin } from './bounded.js'
import { type ChatLimits, chatCodecs, decodeRecord } from './messages.js'
import type { ShardBoard } from './status.js'
import type { ChatTopics } from './topics.js'

/** What the HTTP API serves from. */
export interface ChatHttpOptions {
  readonly host: string
  readonly port: number
  readonly nodeId: string
  readonly shards: number
  readonly topics: ChatTopics
  readonly limits: ChatLimits
  readonly board: ShardBoard
  readonly handle: ProcessingHandle
  readonly inputProducer: () => Promise<Producer>
  readonly logger: Logger
}

/** The running HTTP server. */
export interface ChatHttp {
  readonly address: string
  /** Stops accepting, ends open connections after at most `ms`. */
  close(ms: number): Promise<void>
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = chunk instanceof Buffer ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > max) throw new HttpError(413, `body larger than ${max} bytes`)
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}

/**
 * `GET /health` → `{status, nodeId, shards}`; `GET /shards` → this node's shard instances;
 * `POST /messages` with an instant message → 202 and where it was written (400 with the reason).
 */
export async function startChatHttp(options: ChatHttpOptions): Promise<ChatHttp> {
  const codecs = chatCodecs(options.limits)
  let closing = false

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (req.method === 'GET' && path === '/health') {
      return send(res, closing ? 503 : 200, {
        status: closing ? 'stopping' : 'ok',
        nodeId: options.nodeId,
        shards: { total: options.shards, here: options.handle.running().map((r) => Number(r.key)) },
      })
    }
    if (req.method === 'GET' && path === '/shards') {
      return send(res, 200, { nodeId: options.nodeId, shards: options.board.list() })
    }
    if (req.method === 'POST' && path === '/messages') {
      const body = await readBody(req, options.limits.maxRecordBytes)
      // The same decoding as the shards apply: what is accepted here is never a dead letter there.
      const decoded = decodeRecord(codecs.instantMessage, body, 'instant message', options.limits)
      if (!decoded.ok) throw new HttpError(400, decoded.reason)
      const producer = await options.inputProducer()
      const [meta] = await producer.send({
        topic: options.topics.input,
        acks: -1,
        messages: [{ key: decoded.value.conversationKey, value: body }],
      })
      return send(res, 202, {
        topic: options.topics.input,
        partition: meta?.partition,
        offset: meta?.baseOffset,
      })
    }
    throw new HttpError(404, `no route ${req.method} ${path}`)
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) return send(res, error.status, { error: error.message, ...error.body })
      options.logger.error('http request failed', {
        error: error instanceof Error ? error.message : String(error),
      })
      send(res, 500, { error: 'internal error' })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  const { address, port } = server.address() as AddressInfo
  return {
    address: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    async close(ms) {
      closing = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      if (!(await settleWithin(closed, ms))) server.closeAllConnections()
    },
  }
}
