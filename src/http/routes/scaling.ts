import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ScalingRecommendation } from '../../processes/scaler/commands.js'
import { decodeScalerConfigFields, type ScalerConfigFields } from '../../processes/scaler/config.js'
import type { ScalerConfigSource } from '../../processes/scaler/configStore.js'
import { isArchiving } from '../../processes/scaler/signals.js'
import type { StatusView } from '../../processes/state/stores.js'
import { ValidationError } from '../../util/decode.js'
import { messageOf } from '../../util/errors.js'
import type { Logger } from '../../util/logging.js'
import { sendError } from '../errors.js'

/** What the scaling routes read and write: the scaler's config, and its latest decision. */
export interface ScalingApi {
  readonly config: ScalerConfigSource
  /** The latest decision any node's scaler published, or undefined before the first one. */
  recommendation(): ScalingRecommendation | undefined
}

export interface ScalingRoutesOptions {
  readonly scaling: ScalingApi
  readonly status: StatusView
  readonly guard: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
  readonly logger: Logger
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `GET /scaling` (the recommended node count, for KEDA's metrics-api scaler or an HPA external
 * metric), `GET` and `PUT /scaling/config` (the scaler's settings in the config topic).
 */
export function registerScalingRoutes(app: FastifyInstance, options: ScalingRoutesOptions): void {
  const { scaling, status, guard, logger } = options

  app.get('/scaling', async (): Promise<ScalingRecommendation> => {
    const decided = scaling.recommendation()
    if (decided !== undefined) return decided
    // Before any scaler decided (the cluster is starting): recommend what there is.
    const config = scaling.config.get()
    const archiving = status.nodes().filter(isArchiving).length
    return {
      recommendedReplicas: Math.min(config.maxNodes, Math.max(config.minNodes, archiving)),
      currentReplicas: archiving,
      action: 'hold',
      reason: 'no scaler has decided yet',
      mode: config.mode,
      actsOnAws: false,
      minReplicas: config.minNodes,
      maxReplicas: config.maxNodes,
      warnings: [],
      decidedAt: null,
      scalerNode: null,
    }
  })

  app.get('/scaling/config', async () => scaling.config.get())

  app.put('/scaling/config', { onRequest: guard }, async (request, reply) => {
    const body: unknown = request.body
    if (!isPlainObject(body)) {
      const message =
        body === undefined
          ? 'a JSON object body is required ({} takes every default)'
          : 'the body must be a JSON object'
      return sendError(reply, 400, { error: 'invalid_body', message, fields: [{ path: '', message }] })
    }
    let fields: ScalerConfigFields
    try {
      fields = decodeScalerConfigFields(body)
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      return sendError(reply, 400, { error: 'invalid_body', message: error.message, fields: error.errors })
    }
    try {
      return await scaling.config.put(fields)
    } catch (error) {
      logger.error('scaler config write failed', { error: messageOf(error) })
      reply.header('retry-after', '5')
      return sendError(reply, 503, {
        error: 'unavailable',
        message: 'could not store the scaler config; try again',
      })
    }
  })
}
