// The page's link to the cluster: one server-sent event stream at a time, from any node. When the
// node it reads from stops answering (the stream errors, or stays silent past its ticker), it picks
// another node from the last status it knew and goes on there, saying which node it reads from.

/** The events a node's /stream sends; each one's data is one JSON value. */
const streamEvents = ['snapshot', 'node', 'node-removed', 'config', 'event', 'tick']
const wildcardHosts = new Set(['0.0.0.0', '[::]'])
/** A node that failed is tried again only after this, unless no other is left. */
const failedForMs = 15_000

/**
 * The origin a browser can reach a node at: its httpAddress, with a wildcard bind address replaced
 * by its host name (the server's CORS check does the same).
 * @param {{ httpAddress: string | null, host: string }} node
 * @returns {string | null}
 */
export function reachable(node) {
  if (!node.httpAddress) return null
  try {
    const url = new URL(node.httpAddress)
    if (wildcardHosts.has(url.hostname)) url.hostname = node.host
    return url.origin
  } catch {
    return null
  }
}

export class Connection {
  /**
   * @param {{
   *   onSnapshot: (data: any, base: string) => void,
   *   onEvent: (name: string, data: any) => void,
   *   onState: (state: { state: string, base: string | null, nodeId: string | null, detail: string }) => void,
   * }} handlers
   */
  constructor(handlers) {
    this.handlers = handlers
    /** @type {EventSource | null} */
    this.source = null
    /** @type {string | null} */
    this.base = null
    this.nodeId = null
    /** Nodes as last known: their reachable origins, live ones first. */
    this.known = []
    /** origin → when it last failed */
    this.failed = new Map()
    this.silenceMs = 20_000
    this.attempt = 0
    this.watchdog = undefined
    this.retry = undefined
  }

  /** Starts reading from `base` (the node that served the page). */
  start(base) {
    this.open(base)
  }

  /** The nodes of the last status: where to go when the current node stops answering. */
  setNodes(nodes) {
    const live = []
    const lost = []
    for (const node of nodes) {
      const origin = reachable(node)
      if (origin) (node.lost ? lost : live).push(origin)
    }
    this.known = [...live, ...lost]
  }

  open(base) {
    this.close()
    this.base = base
    this.handlers.onState({ state: 'connecting', base, nodeId: null, detail: '' })
    const source = new EventSource(`${base}/stream`)
    this.source = source
    for (const name of streamEvents) {
      source.addEventListener(name, (message) => {
        if (this.source !== source) return
        let data
        try {
          data = JSON.parse(message.data)
        } catch {
          return
        }
        this.heard()
        if (name === 'snapshot') {
          this.nodeId = data.nodeId
          this.silenceMs = 3 * data.statusIntervalMs + 5000
          this.attempt = 0
          this.failed.delete(base)
          this.handlers.onSnapshot(data, base)
          this.handlers.onState({ state: 'live', base, nodeId: data.nodeId, detail: '' })
        } else this.handlers.onEvent(name, data)
      })
    }
    // EventSource would retry the same node by itself; we would rather try another one.
    source.onerror = () => {
      if (this.source === source) this.fail('the stream broke')
    }
    this.heard()
  }

  close() {
    clearTimeout(this.watchdog)
    clearTimeout(this.retry)
    if (this.source) this.source.close()
    this.source = null
  }

  /** Something arrived: the node answers. A silent node (frozen, cut off) is left too. */
  heard() {
    clearTimeout(this.watchdog)
    this.watchdog = setTimeout(() => this.fail('no news from the node'), this.silenceMs)
  }

  fail(reason) {
    const from = this.base
    const nodeId = this.nodeId
    this.close()
    if (from) this.failed.set(from, Date.now())
    this.nodeId = null
    const next = this.next(from)
    this.attempt++
    // Straight to the next node; slower once every node was tried (the cluster may be restarting).
    const delay = Math.min(
      5000,
      this.attempt <= this.known.length ? 200 : 250 * 2 ** Math.min(5, this.attempt),
    )
    this.handlers.onState({
      state: 'reconnecting',
      base: from,
      nodeId,
      detail: `${reason}; trying ${next} in ${Math.round(delay / 100) / 10} s`,
    })
    this.retry = setTimeout(() => this.open(next), delay)
  }

  /** The node to try after `from`: a live one that did not fail lately, else the one that failed longest ago. */
  next(from) {
    const now = Date.now()
    const candidates = [...new Set([...this.known, location.origin])].filter((origin) => origin !== from)
    const fresh = candidates.find((origin) => now - (this.failed.get(origin) ?? 0) > failedForMs)
    if (fresh) return fresh
    const oldest = [...candidates].sort((a, b) => (this.failed.get(a) ?? 0) - (this.failed.get(b) ?? 0))[0]
    return oldest ?? from ?? location.origin
  }
}
