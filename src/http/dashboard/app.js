// The kdp dashboard: the cluster's state as the stream of one node tells it (a snapshot, then only
// changes), kept here and drawn on each change. See src/http/README.md.

import { Connection } from './connection.js'
import { onTokenChange, setupTokenForm } from './editor.js'
import { TopicPanels } from './topics.js'
import { renderEvents, renderNodes, renderPlacement, renderSummary } from './view.js'

/** How long a process that moved stays marked. */
const moveShownMs = 15_000
const maxEvents = 200
/** Ticker points kept on the page (more than a node keeps: the page may outlive its node). */
const maxPoints = 600

const state = {
  cluster: 'kdp',
  /** The node whose stream this page reads. */
  serving: null,
  nodes: new Map(),
  configs: new Map(),
  events: [],
  history: [],
  /** process (group|key) → the node it last ran on, and the processes that moved lately. */
  placement: new Map(),
  moves: new Map(),
}

const elements = {
  cluster: document.getElementById('cluster'),
  connection: document.getElementById('connection'),
  summary: document.getElementById('summary'),
  nodes: document.getElementById('nodes'),
  placement: document.querySelector('#placement tbody'),
  events: document.getElementById('events'),
}
const topics = new TopicPanels(document.getElementById('topics'))

/** Notes every process whose node changed since the last status: a move, marked for a while. */
function trackMoves() {
  const now = Date.now()
  for (const node of state.nodes.values()) {
    if (node.lost) continue
    for (const p of node.processes) {
      const key = `${p.group}|${p.key}`
      const before = state.placement.get(key)
      if (before !== undefined && before !== node.nodeId)
        state.moves.set(key, { from: before, to: node.nodeId, until: now + moveShownMs })
      state.placement.set(key, node.nodeId)
    }
  }
  for (const [key, move] of state.moves) if (move.until <= now) state.moves.delete(key)
}

function drawCluster() {
  trackMoves()
  renderSummary(elements.summary, state)
  renderNodes(elements.nodes, state)
  renderPlacement(elements.placement, state)
  connection.setNodes([...state.nodes.values()])
}

function showConnection({ state: phase, base, nodeId, detail }) {
  const c = elements.connection
  c.dataset.state = phase
  c.dataset.nodeId = phase === 'live' ? nodeId : ''
  c.dataset.base = base ?? ''
  if (phase === 'live') {
    const elsewhere =
      base !== location.origin ? ` — this page came from ${location.origin}; edits go there` : ''
    c.textContent = `connected to ${nodeId} (${base})${elsewhere}`
  } else if (phase === 'reconnecting') c.textContent = `lost ${nodeId ?? base}: ${detail}`
  else c.textContent = `connecting to ${base}…`
}

const connection = new Connection({
  onSnapshot(snapshot, base) {
    state.cluster = snapshot.cluster
    state.serving = snapshot.nodeId
    // Edits go to the page's own node: say so when that node refuses every write.
    if (base === location.origin && !snapshot.writable)
      document.getElementById('token-state').textContent = 'read-only: this node has no API token configured'
    elements.cluster.textContent = snapshot.cluster
    document.title = `kdp ${snapshot.cluster}`
    state.nodes = new Map(snapshot.nodes.map((n) => [n.nodeId, n]))
    state.configs = new Map(snapshot.configs.map((c) => [c.topic, c]))
    state.events = snapshot.events.slice(-maxEvents)
    // Another node's ticker replaces ours: it is the cluster's, not the node's.
    state.history = snapshot.history.slice(-maxPoints)
    drawCluster()
    renderEvents(elements.events, state.events)
    topics.render(state)
  },
  onEvent(name, data) {
    if (name === 'node') {
      state.nodes.set(data.nodeId, data)
      drawCluster()
    } else if (name === 'node-removed') {
      state.nodes.delete(data.nodeId)
      drawCluster()
    } else if (name === 'config') {
      if (data.config) state.configs.set(data.topic, data.config)
      else state.configs.delete(data.topic)
      topics.render(state)
    } else if (name === 'event') {
      state.events.push(data)
      if (state.events.length > maxEvents) state.events.shift()
      renderEvents(elements.events, state.events)
    } else if (name === 'tick') {
      state.history.push(data)
      if (state.history.length > maxPoints) state.history.shift()
      elements.summary.dataset.points = String(state.history.length)
      topics.render(state)
    }
  },
  onState: showConnection,
})

setupTokenForm()
onTokenChange(() => topics.tokenChanged())
// A `?node=http://host:port` opens the stream of that node first (the page itself may come from a
// load balancer).
const first = new URLSearchParams(location.search).get('node')
connection.start(first && /^https?:\/\//.test(first) ? new URL(first).origin : location.origin)
