import type { ServerResponse } from 'node:http'
import type { EventView, FeedEvent } from '../../processes/state/eventFeed.js'
import type { ConfigStore, ReportedNode, StatusView } from '../../processes/state/stores.js'
import { messageOf } from '../../util/errors.js'
import type { Logger } from '../../util/logging.js'
import { withTimeout } from '../../util/timeout.js'
import { historyPoint, TopicHistory } from './history.js'
import type { StreamEvents, StreamSnapshot } from './shapes.js'

export interface LiveHubOptions {
  readonly nodeId: string
  readonly cluster: string
  readonly writable: boolean
  readonly status: StatusView
  readonly configs: ConfigStore
  readonly events?: EventView
  /** How often nodes report; the ticker moves and lost nodes are noticed at this pace. */
  readonly statusIntervalMs: number
  /** How much ticker history the node keeps for pages that connect later. */
  readonly historyMs: number
  /** Streams open at once at the most; more are refused (503). */
  readonly maxClients: number
  readonly logger: Logger
}

/** Bytes a stream may have waiting in its socket before it is cut (the page reconnects). */
const maxBufferedBytes = 1024 * 1024
/** How long a new stream waits for the events topic before its snapshot goes without events. */
const eventsWaitMs = 3000

/**
 * The server side of the live dashboard: server-sent events to every open page. A page gets one
 * snapshot, then only changes: a node's new status (or its going lost), a node leaving, a config
 * change, an event, and a ticker point every status interval. Nothing is polled on the page's side;
 * here, one timer per status interval builds the ticker point and notices nodes going silent.
 */
export class LiveHub {
  readonly #clients = new Set<ServerResponse>()
  readonly #history: TopicHistory
  /** What the streams were last told about each node: `updatedAt|lost`. */
  readonly #told = new Map<string, string>()
  readonly #unsubscribe: Array<() => void> = []
  #timer: NodeJS.Timeout | undefined
  #eventsFollowed = false
  #stopped = false

  constructor(private readonly options: LiveHubOptions) {
    this.#history = new TopicHistory(Math.max(1, Math.ceil(options.historyMs / options.statusIntervalMs)))
  }

  get clients(): number {
    return this.#clients.size
  }

  start(): void {
    const { status, configs } = this.options
    for (const node of status.nodes()) this.#told.set(node.nodeId, signature(node))
    if (status.subscribe) this.#unsubscribe.push(status.subscribe((nodeId) => this.#nodeChanged(nodeId)))
    this.#unsubscribe.push(
      configs.subscribe((topic, config) => this.#broadcast('config', { topic, config: config ?? null })),
    )
    this.#tick()
    this.#timer = setInterval(() => this.#tick(), this.options.statusIntervalMs)
  }

  /** Ends every stream (pages then fail over to another node) and stops watching. */
  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    for (const client of this.#clients) client.end()
    this.#clients.clear()
  }

  /** Whether one more stream may open. */
  hasRoom(): boolean {
    return !this.#stopped && this.#clients.size < this.options.maxClients
  }

  /**
   * Serves one stream on `response` (headers already chosen by the route): the snapshot, then
   * every change until the page goes or the hub stops.
   */
  async open(response: ServerResponse, headers: Record<string, string>): Promise<void> {
    this.#followEvents()
    response.writeHead(200, headers)
    // A page that reconnects by itself (EventSource) should come back soon; ours picks another node.
    response.write('retry: 2000\n\n')
    const events = await this.#recentEvents()
    if (this.#stopped || response.destroyed) {
      response.end()
      return
    }
    this.#send(response, 'snapshot', this.#snapshot(events))
    this.#clients.add(response)
    response.once('close', () => this.#clients.delete(response))
  }

  #snapshot(events: FeedEvent[]): StreamSnapshot {
    const { nodeId, cluster, writable, status, configs, statusIntervalMs } = this.options
    return {
      nodeId,
      cluster,
      statusIntervalMs,
      writable,
      nodes: status.nodes(),
      configs: configs.list(),
      events,
      history: [...this.#history.points()],
    }
  }

  async #recentEvents(): Promise<FeedEvent[]> {
    if (!this.options.events) return []
    try {
      return await withTimeout(this.options.events.recent(), eventsWaitMs, 'reading the events topic')
    } catch (error) {
      this.options.logger.warn('dashboard stream opened without events', { error: messageOf(error) })
      return []
    }
  }

  /** Follows the events topic from the first stream on (a node nobody watches does not read it). */
  #followEvents(): void {
    if (this.#eventsFollowed || !this.options.events) return
    this.#eventsFollowed = true
    this.#unsubscribe.push(this.options.events.subscribe((event) => this.#broadcast('event', event)))
  }

  #nodeChanged(nodeId: string): void {
    const node = this.options.status.nodes().find((n) => n.nodeId === nodeId)
    this.#tell(nodeId, node)
  }

  #tell(nodeId: string, node: ReportedNode | undefined): void {
    if (!node) {
      if (this.#told.delete(nodeId)) this.#broadcast('node-removed', { nodeId })
      return
    }
    const now = signature(node)
    if (this.#told.get(nodeId) === now) return
    this.#told.set(nodeId, now)
    this.#broadcast('node', node)
  }

  #tick(): void {
    const nodes = this.options.status.nodes()
    const point = historyPoint(nodes, new Date())
    this.#history.add(point)
    // Lost is timed by this node's clock: a silent node changes only here, and views that cannot
    // notify are caught up here too.
    const seen = new Set<string>()
    for (const node of nodes) {
      seen.add(node.nodeId)
      this.#tell(node.nodeId, node)
    }
    for (const nodeId of [...this.#told.keys()]) if (!seen.has(nodeId)) this.#tell(nodeId, undefined)
    this.#broadcast('tick', point)
  }

  #broadcast<K extends keyof StreamEvents>(event: K, data: StreamEvents[K]): void {
    if (this.#clients.size === 0) return
    const frame = sseFrame(event, data)
    for (const client of this.#clients) this.#write(client, frame)
  }

  #send<K extends keyof StreamEvents>(client: ServerResponse, event: K, data: StreamEvents[K]): void {
    this.#write(client, sseFrame(event, data))
  }

  #write(client: ServerResponse, frame: string): void {
    if (client.writableLength > maxBufferedBytes) {
      // A page that does not read: cut it rather than hold its backlog (it reconnects and catches up).
      this.#clients.delete(client)
      client.destroy()
      return
    }
    client.write(frame)
  }
}

function signature(node: ReportedNode): string {
  return `${node.updatedAt}|${node.lost}`
}

/** One server-sent event: its name and its data as one line of JSON. */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}
