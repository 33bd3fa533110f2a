import Fastify, { type FastifyInstance } from 'fastify'
import type { MetricsText } from '../processes/nodeMetrics.js'
import type { EventView } from '../processes/state/eventFeed.js'
import type { ConfigStore, StatusView } from '../processes/state/stores.js'
import type { Logger } from '../util/logging.js'
import { writeGuard } from './auth.js'
import { registerBodyParsers } from './bodies.js'
import { registerCors } from './cors.js'
import { errorHandler, pathOf, sendError } from './errors.js'
import { LiveHub } from './live/hub.js'
import { openApiDocument } from './openapi.js'
import { registerClusterRoutes } from './routes/cluster.js'
import { registerDashboardRoutes } from './routes/dashboard.js'
import { registerLagRoutes } from './routes/lag.js'
import { registerLiveRoutes } from './routes/live.js'
import { registerMetricsRoute } from './routes/metrics.js'
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
  /** The events topic, for the dashboard and `GET /events` (none: no events shown). */
  readonly events?: EventView
  /** The node's Prometheus metrics, served at `GET /metrics` (none: no such route). */
  readonly metrics?: MetricsText
  /** The cluster name (`kdp`): the dashboard finds the master and the scaler by their group names. */
  readonly cluster?: string
  /** How often nodes publish their status (5 000): the dashboard's ticker moves at this pace. */
  readonly statusIntervalMs?: number
  /** Ticker history kept for pages that open later (300 000: five minutes). */
  readonly historyMs?: number
  /** Dashboard streams open at once at the most (100). */
  readonly maxStreams?: number
  /** Origins besides the cluster's nodes allowed to read cross-origin (a load balancer's). */
  readonly corsOrigins?: readonly string[]
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

  let ownAddress: string | undefined
  app.addHook('onReady', async () => {
    const bound = app.server.address()
    if (bound !== null && typeof bound !== 'string')
      ownAddress = `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
  })
  const cors = {
    status: options.status,
    ownAddress: () => ownAddress,
    ...(options.corsOrigins !== undefined && { extraOrigins: options.corsOrigins }),
  }
  registerCors(app, cors)
  const hub = new LiveHub({
    nodeId: options.nodeId,
    cluster: options.cluster ?? 'kdp',
    writable: options.token !== undefined && options.token !== '',
    status: options.status,
    configs: options.configs,
    ...(options.events !== undefined && { events: options.events }),
    statusIntervalMs: options.statusIntervalMs ?? 5000,
    historyMs: options.historyMs ?? 300_000,
    maxClients: options.maxStreams ?? 100,
    logger,
  })
  // The hub's timer runs while the server listens; its streams end before the server closes, or
  // the close would wait for them.
  app.addHook('onReady', async () => hub.start())
  app.addHook('preClose', async () => hub.stop())

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
  registerLagRoutes(app, { configs: options.configs, status: options.status })
  registerTopicRoutes(app, {
    configs: options.configs,
    status: options.status,
    guard: writeGuard(options.token),
    logger,
    ...(options.knownTopics ? { knownTopics: options.knownTopics } : {}),
    ...(options.knownTopicsTimeoutMs !== undefined
      ? { knownTopicsTimeoutMs: options.knownTopicsTimeoutMs }
      : {}),
  })
  registerLiveRoutes(app, { hub, events: options.events, cors, logger })
  if (options.metrics) registerMetricsRoute(app, options.metrics)
  registerDashboardRoutes(app, { logger })
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
