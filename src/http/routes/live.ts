import type { FastifyInstance } from 'fastify'
import type { EventView } from '../../processes/state/eventFeed.js'
import { messageOf } from '../../util/errors.js'
import type { Logger } from '../../util/logging.js'
import { withTimeout } from '../../util/timeout.js'
import { type CorsOptions, corsHeaders } from '../cors.js'
import { sendError } from '../errors.js'
import type { LiveHub } from '../live/hub.js'

export interface LiveRoutesOptions {
  readonly hub: LiveHub
  readonly events: EventView | undefined
  readonly cors: CorsOptions
  readonly logger: Logger
}

/** How long `GET /events` waits for the events topic before it answers 503. */
const eventsTimeoutMs = 5000

/** `GET /stream` (server-sent events for the dashboard) and `GET /events` (the latest events). */
export function registerLiveRoutes(app: FastifyInstance, options: LiveRoutesOptions): void {
  const { hub, events, cors, logger } = options

  app.get('/stream', async (request, reply) => {
    if (!hub.hasRoom()) {
      reply.header('retry-after', '5')
      return sendError(reply, 503, {
        error: 'unavailable',
        message: 'too many dashboard streams open on this node; try another node',
      })
    }
    // The stream outlives the handler: fastify's reply and hooks step aside, the hub writes to the
    // socket. Its headers are set here, as the onSend hooks would have.
    reply.hijack()
    await hub.open(reply.raw, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Proxies (nginx, HAProxy with buffering) must pass each event on at once.
      'x-accel-buffering': 'no',
      // The stream ends only when the node stops: its connection must close then, not idle on.
      connection: 'close',
      ...corsHeaders(request.method, request.headers.origin, cors),
    })
  })

  app.get('/events', async (_request, reply) => {
    if (!events) return []
    try {
      return await withTimeout(events.recent(), eventsTimeoutMs, 'reading the events topic')
    } catch (error) {
      logger.warn('could not read the events topic', { error: messageOf(error) })
      reply.header('retry-after', '5')
      return sendError(reply, 503, { error: 'unavailable', message: 'the events topic cannot be read now' })
    }
  })
}
