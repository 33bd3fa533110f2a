import type { FastifyInstance } from 'fastify'
import type { ReportedNode, StatusView } from '../processes/state/stores.js'

/**
 * Cross-origin reads for the dashboard's failover: a page served by one node reads the stream and
 * the API of another node when its own stops answering. Only GET and HEAD, only without credentials,
 * and only from origins of the cluster's own nodes (and any the operator adds): a web page from
 * elsewhere that the operator happens to open cannot read the cluster state from a loopback node.
 * Writes stay same-origin: they carry the token in a header, which would need a preflight, and none
 * is answered.
 */

const wildcardHosts = new Set(['0.0.0.0', '[::]'])

/**
 * The address a browser can reach a node at: its `httpAddress`, with a wildcard bind address
 * (`0.0.0.0`, `[::]`) replaced by the node's host name. The page's script does the same.
 */
export function reachableAddress(node: Pick<ReportedNode, 'httpAddress' | 'host'>): string | null {
  if (node.httpAddress === null) return null
  try {
    const url = new URL(node.httpAddress)
    if (wildcardHosts.has(url.hostname)) url.hostname = node.host
    return url.origin
  } catch {
    return null
  }
}

function originOf(text: string): string | undefined {
  try {
    return new URL(text).origin
  } catch {
    return undefined
  }
}

export interface CorsOptions {
  readonly status: StatusView
  /** This node's own address, once it listens. */
  readonly ownAddress: () => string | undefined
  /** More origins allowed to read (a load balancer's, say). */
  readonly extraOrigins?: readonly string[]
}

/** The `Access-Control-Allow-Origin` value for a read from `origin`, or undefined (not allowed). */
export function allowedOrigin(origin: string | undefined, options: CorsOptions): string | undefined {
  if (origin === undefined) return undefined
  const wanted = originOf(origin)
  if (wanted === undefined) return undefined
  const own = options.ownAddress()
  if (own !== undefined && originOf(own) === wanted) return wanted
  if (options.extraOrigins?.some((extra) => originOf(extra) === wanted)) return wanted
  return options.status.nodes().some((node) => reachableAddress(node) === wanted) ? wanted : undefined
}

/** The CORS headers of a read answering `origin` (empty when it is not allowed). */
export function corsHeaders(
  method: string,
  origin: string | undefined,
  options: CorsOptions,
): Record<string, string> {
  if (method !== 'GET' && method !== 'HEAD') return {}
  const allowed = allowedOrigin(origin, options)
  return allowed === undefined ? {} : { 'access-control-allow-origin': allowed, vary: 'Origin' }
}

/** Adds the CORS headers to every allowed read answered through fastify (the stream sets its own). */
export function registerCors(app: FastifyInstance, options: CorsOptions): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const origin = request.headers.origin
    for (const [name, value] of Object.entries(corsHeaders(request.method, origin, options)))
      reply.header(name, value)
    return payload
  })
}
