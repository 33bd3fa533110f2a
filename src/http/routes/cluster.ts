import type { FastifyInstance } from 'fastify'
import type { ProcessStatus, StatusView } from '../../processes/state/stores.js'

/** One process instance and where it runs, as `GET /processes` lists it. */
export interface Placement {
  readonly nodeId: string
  readonly lost: boolean
  readonly group: string
  readonly key: string
  readonly partition: number
  readonly fencingToken: number
  readonly state: ProcessStatus['state']
}

export function placements(status: StatusView): Placement[] {
  return status.nodes().flatMap((node) =>
    node.processes.map((p) => ({
      nodeId: node.nodeId,
      lost: node.lost,
      group: p.group,
      key: p.key,
      partition: p.partition,
      fencingToken: p.fencingToken,
      state: p.state,
    })),
  )
}

export function registerClusterRoutes(
  app: FastifyInstance,
  options: { status: StatusView; nodeId: string },
): void {
  const { status, nodeId } = options
  app.get('/health', async () => ({ status: 'ok', nodeId }))
  app.get('/nodes', async () => status.nodes())
  app.get('/processes', async () => placements(status))
}
