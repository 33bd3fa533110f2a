import { createRequire } from 'node:module'
import type { Cluster, Kafka } from 'kafkajs'
import type { Logger } from '../util/logging.js'
import { withTimeout } from '../util/timeout.js'

/** How the coordinator answered a heartbeat. */
export type HeartbeatAnswer =
  /** No error: the group is stable; the session was restarted. */
  | 'stable'
  /** REBALANCE_IN_PROGRESS: the session was restarted too (see coordination/lease.ts). */
  | 'rebalancing'
  /** The member is no longer in the group. */
  | 'unknown-member'
  /** Anything else: another generation, no coordinator, a timeout. Renews nothing. */
  | 'no-renewal'

interface HeartbeatingBroker {
  heartbeat(request: { groupId: string; groupGenerationId: number; memberId: string }): Promise<unknown>
}

type CreateCluster = (options: { allowAutoTopicCreation: boolean; metadataMaxAge?: number }) => Cluster

const require = createRequire(import.meta.url)

/**
 * kafkajs 2.2.4 builds its clusters with a private factory kept on the client instance; using it
 * gives a separate set of connections with the client's own TLS, SASL and timeouts. A pending
 * JoinGroup holds its connection (a broker answers one request per connection at a time), so the
 * heartbeats of a join phase need connections of their own. Undefined for any other kafkajs
 * version: then no heartbeats are sent during joins (safe; only less available).
 */
function clusterFactory(kafka: Kafka): CreateCluster | undefined {
  try {
    const { version } = require('kafkajs/package.json') as { version: string }
    if (version !== '2.2.4') return undefined
  } catch {
    return undefined
  }
  const symbol = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  )
  const factory = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol]
  return typeof factory === 'function' ? (factory as CreateCluster).bind(kafka) : undefined
}

/**
 * Heartbeats of one member sent on a side connection while kafkajs waits in JoinGroup (kafkajs
 * sends none then). The coordinator restarts the session of a member for every heartbeat it answers
 * with REBALANCE_IN_PROGRESS, so these keep the lease of a member that stays in the group for the
 * whole join phase, however long the group waits for a member that died.
 */
export class RebalanceHeartbeats {
  readonly #factory: CreateCluster | undefined
  #cluster: Promise<Cluster> | undefined
  #coordinator: HeartbeatingBroker | undefined

  constructor(
    kafka: Kafka,
    private readonly groupId: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.#factory = clusterFactory(kafka)
    if (!this.#factory)
      logger.warn('kafkajs is not 2.2.4: no heartbeats during joins, a long join phase stops every slice')
  }

  get available(): boolean {
    return this.#factory !== undefined
  }

  /** Sends one heartbeat for `memberId` in `generation`; never throws. */
  async beat(generation: number, memberId: string): Promise<HeartbeatAnswer> {
    try {
      const coordinator = await withTimeout(this.#findCoordinator(), this.timeoutMs, 'group coordinator')
      await withTimeout(
        coordinator.heartbeat({ groupId: this.groupId, groupGenerationId: generation, memberId }),
        this.timeoutMs,
        'heartbeat',
      )
      return 'stable'
    } catch (error) {
      const type = (error as { type?: unknown }).type
      if (type === 'REBALANCE_IN_PROGRESS') return 'rebalancing'
      if (type === 'UNKNOWN_MEMBER_ID') return 'unknown-member'
      // The coordinator may have moved or the connection broken: find it again next time.
      this.#coordinator = undefined
      this.logger.debug('heartbeat during a join renewed nothing', {
        error: error instanceof Error ? error.message : String(error),
      })
      return 'no-renewal'
    }
  }

  async close(): Promise<void> {
    const cluster = this.#cluster
    this.#cluster = undefined
    this.#coordinator = undefined
    if (cluster) await (await cluster.catch(() => undefined))?.disconnect().catch(() => {})
  }

  async #findCoordinator(): Promise<HeartbeatingBroker> {
    if (this.#coordinator) return this.#coordinator
    const factory = this.#factory
    if (!factory) throw new Error('no side connection with this kafkajs version')
    this.#cluster ??= (async () => {
      const cluster = factory({ allowAutoTopicCreation: false })
      await cluster.connect()
      return cluster
    })().catch((error: unknown) => {
      this.#cluster = undefined
      throw error
    })
    const cluster = await this.#cluster
    const coordinator = (await cluster.findGroupCoordinator({ groupId: this.groupId })) as unknown
    this.#coordinator = coordinator as HeartbeatingBroker
    return this.#coordinator
  }
}
