import type { FastifyInstance } from 'fastify'
import * as t from 'io-ts'
import { ProcessInstance } from '../../processes/state/status.js'
import type { StatusView } from '../../processes/state/stores.js'
import { described } from '../../util/codecs.js'

/** One process instance and where it runs, as `GET /processes` lists it. */
export const Placement = described(
  t.readonly(
    t.intersection([
      t.type({
        nodeId: described(t.string, 'The node that runs it.'),
        lost: described(t.boolean, 'That node went silent: the instance may already run elsewhere.'),
      }),
      ProcessInstance,
    ]),
  ),
  'One process instance and the node it runs on.',
)
export type Placement = t.TypeOf<typeof Placement>

/** `GET /health`. */
export const Health = t.readonly(t.type({ status: t.literal('ok'), nodeId: t.string }))
export type Health = t.TypeOf<typeof Health>

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
  app.get('/health', async (): Promise<Health> => ({ status: 'ok', nodeId }))
  app.get('/nodes', async () => status.nodes())
  app.get('/processes', async () => placements(status))
}
