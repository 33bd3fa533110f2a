import Fastify, { type FastifyInstance } from 'fastify'
import type { ConfigStore, StatusView } from '../processes/state/stores.js'
import type { Logger } from '../util/logging.js'
import { writeGuard } from './auth.js'
import { registerBodyParsers } from './bodies.js'
import { errorHandler, pathOf, sendError } from './errors.js'
import { openApiDocument } from './openapi.js'
import { registerClusterRoutes } from './routes/cluster.js'
import { registerScalingRoutes, type ScalingApi } from './routes/scaling.js'
import { registerTopicRoutes } from './routes/topics.js'

export interface HttpApiOptions {
  readonly configs: ConfigStore
  readonly status: StatusView
  /** Bearer token for writes; undefined (or empty): every write is refused. Never logged. */
  readonly token: string | undefined
  /** Interface to bind; loopback unless told otherwise. */
  readonly host?: string
  /** 0 (the default): any free port. */
  readonly port?: number
  readonly logger: Logger
  readonly nodeId: string
  /** Kafka topics that exist, so that `GET /topics` also lists those without a config. */
  readonly knownTopics?: () => Promise<string[]>
  /** How long `GET /topics` waits for `knownTopics` before listing configured topics only (5 000). */
  readonly knownTopicsTimeoutMs?: number
  /** The scaler's config and decision (`/scaling`); without it those routes are not served. */
  readonly scaling?: ScalingApi
}

export interface HttpApi {
  /** `http://host:port` the API listens on. */
  readonly address: string
  /** Closes the server (idle keep-alive connections too) and waits until it is closed. */
  stop(): Promise<void>
}

/** Largest request body accepted (a topic config is a few hundred bytes). */
export const bodyLimit = 64 * 1024
/** How long stop() lets requests in flight finish before it cuts their connections. */
const stopGraceMs = 10_000

/**
 * Builds the API without listening. Fastify's own logger stays off: it would log request headers,
 * and with them the bearer token. Each request is logged once through our logger instead, with
 * method, path, status and duration only.
 */
export function buildHttpApi(options: HttpApiOptions): FastifyInstance {
  const logger = options.logger.child({ component: 'http' })
  const app = Fastify({
    logger: false,
    bodyLimit,
    // Long enough for any topic name (249), so a too-long one gets a 400 rather than a 404.
    routerOptions: { maxParamLength: 1_000 },
    requestTimeout: 30_000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // A malformed URL never reaches the router; answer it in our error shape too.
    frameworkErrors: (error, request, reply) =>
      sendError(reply, 400, { error: 'bad_request', message: `${request.method} ${error.message}` }),
  })

  registerBodyParsers(app)
  app.setErrorHandler(errorHandler(logger, bodyLimit))
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, { error: 'not_found', message: `no route ${request.method} ${pathOf(request)}` }),
  )
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store')
    reply.header('x-content-type-options', 'nosniff')
    // Once stop() has begun, answer the requests still in flight and close their connections, so
    // that a keep-alive connection does not hold the close for the whole keep-alive timeout.
    if (!app.server.listening) reply.header('connection', 'close')
    return payload
  })
  app.addHook('onResponse', async (request, reply) => {
    logger.debug('http request', {
      method: request.method,
      path: pathOf(request),
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime),
    })
  })

  registerClusterRoutes(app, { status: options.status, nodeId: options.nodeId })
  registerTopicRoutes(app, {
    configs: options.configs,
    guard: writeGuard(options.token),
    logger,
    ...(options.knownTopics ? { knownTopics: options.knownTopics } : {}),
    ...(options.knownTopicsTimeoutMs !== undefined
      ? { knownTopicsTimeoutMs: options.knownTopicsTimeoutMs }
      : {}),
  })
  if (options.scaling) {
    registerScalingRoutes(app, {
      scaling: options.scaling,
      status: options.status,
      guard: writeGuard(options.token),
      logger,
    })
  }
  app.get('/openapi.json', async () => openApiDocument)
  return app
}

/** Starts the HTTP API every node serves; resolves once it listens. */
export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const app = buildHttpApi(options)
  const host = options.host ?? '127.0.0.1'
  try {
    await app.listen({ host, port: options.port ?? 0 })
  } catch (error) {
    await app.close()
    throw error
  }
  const bound = app.server.address()
  if (bound === null || typeof bound === 'string') {
    await app.close()
    throw new Error(`the HTTP API is not listening on a TCP port: ${String(bound)}`)
  }
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  const address = `http://${shownHost}:${bound.port}`
  options.logger.info('http api listening', { address, writes: options.token ? 'enabled' : 'disabled' })
  let stopping: Promise<void> | undefined
  return {
    address,
    stop: () => {
      stopping ??= (async () => {
        const cut = setTimeout(() => app.server.closeAllConnections(), stopGraceMs)
        try {
          await app.close()
        } finally {
          clearTimeout(cut)
        }
        options.logger.info('http api stopped', { address })
      })()
      return stopping
    },
  }
}
