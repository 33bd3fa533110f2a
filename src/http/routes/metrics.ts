import type { FastifyInstance } from 'fastify'
import type { MetricsText } from '../../processes/nodeMetrics.js'

/** `GET /metrics`: the node's Prometheus registry in the text exposition format. */
export function registerMetricsRoute(app: FastifyInstance, metrics: MetricsText): void {
  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.contentType)
    return metrics.text()
  })
}
