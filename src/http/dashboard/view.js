// Rendering of the nodes, the placement and the events. Every text from the cluster goes in through
// textContent (never as HTML): topic names, keys and event fields are data, not markup.

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue
    if (name === 'class') node.className = String(value)
    else node.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return node
}

export function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = Number(bytes) || 0
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

export function formatCount(value) {
  const n = Number(value) || 0
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)} M`
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)} k`
  return Number.isInteger(n) ? String(n) : n.toFixed(1)
}

/** Sums of the load signals of a node's partitions. */
export function nodeLoad(node) {
  const sum = { recordsInPerSec: 0, recordsOutPerSec: 0, unreadLag: 0, bufferedRecords: 0, committedLag: 0 }
  for (const load of node.partitions ?? []) for (const key of Object.keys(sum)) sum[key] += load[key]
  return sum
}

function metric(label, value, testid) {
  return el(
    'div',
    { class: 'metric' },
    el('span', { class: 'label' }, label),
    el('span', { class: 'value', 'data-testid': testid }, value),
  )
}

/** The role of a process group in the cluster: master, scaler, archiver, or the group name. */
export function roleOf(group, cluster) {
  if (group === `${cluster}-master`) return 'master'
  if (group === `${cluster}-scaler`) return 'scaler'
  if (group === `${cluster}-archivers`) return 'archiver'
  return group
}

/**
 * The node cards.
 * @param {HTMLElement} container
 * @param {{ nodes: Map<string, any>, serving: string | null, cluster: string }} state
 */
export function renderNodes(container, state) {
  const cards = [...state.nodes.values()].map((node) => {
    const load = nodeLoad(node)
    const roles = [...new Set(node.processes.map((p) => roleOf(p.group, state.cluster)))]
      .filter((r) => r === 'master' || r === 'scaler')
      .map((r) => el('span', { class: `badge role-${r}` }, r))
    const address = node.httpAddress
    return el(
      'article',
      {
        class: `card node${node.lost ? ' lost' : ''}${node.nodeId === state.serving ? ' serving' : ''}`,
        'data-testid': 'node',
        'data-node-id': node.nodeId,
        'data-lost': String(node.lost),
      },
      el(
        'h3',
        {},
        node.nodeId,
        node.lost ? el('span', { class: 'badge lost' }, 'lost') : null,
        node.nodeId === state.serving
          ? el('span', { class: 'badge serving' }, 'streaming to this page')
          : null,
        roles,
      ),
      el(
        'div',
        { class: 'where' },
        node.host,
        ' · pid ',
        node.pid,
        address ? ' · ' : '',
        address ? el('a', { href: `${address}/dashboard` }, address) : null,
      ),
      el(
        'div',
        { class: 'metrics' },
        metric('CPU', `${node.cpuPercent.toFixed(1)} %`, 'node-cpu'),
        metric('memory', formatBytes(node.rssBytes), 'node-rss'),
        metric('heap', formatBytes(node.heapUsedBytes), 'node-heap'),
        metric(
          'net ↓/↑',
          `${formatBytes(node.networkBytesPerSec.received)}/s · ${formatBytes(node.networkBytesPerSec.sent)}/s`,
          'node-net',
        ),
        metric('event loop p99', `${node.eventLoopDelayMs} ms`, 'node-loop'),
        metric(
          'in / out',
          `${formatCount(load.recordsInPerSec)} / ${formatCount(load.recordsOutPerSec)} rec/s`,
          'node-rates',
        ),
        metric('unread lag', formatCount(load.unreadLag), 'node-unread'),
        metric('buffered', formatCount(load.bufferedRecords), 'node-buffered'),
        metric('committed lag', formatCount(load.committedLag), 'node-committed'),
        metric('processes', node.processes.length, 'node-processes'),
      ),
      node.warnings.length > 0
        ? el(
            'ul',
            { class: 'warnings' },
            node.warnings.map((w) => el('li', {}, w)),
          )
        : null,
      el(
        'div',
        { class: 'updated', 'data-testid': 'node-updated', 'data-updated': node.updatedAt },
        `reported ${new Date(node.updatedAt).toLocaleTimeString()}`,
      ),
    )
  })
  container.replaceChildren(...cards)
}

const roleOrder = { master: 0, scaler: 1, archiver: 2 }

/**
 * The placement table: every process instance and its node; a process that moved lately is marked.
 * @param {HTMLElement} body the table's tbody
 */
export function renderPlacement(body, state) {
  const rows = []
  for (const node of state.nodes.values()) {
    for (const p of node.processes)
      rows.push({ ...p, nodeId: node.nodeId, lost: node.lost, role: roleOf(p.group, state.cluster) })
  }
  rows.sort(
    (a, b) =>
      (roleOrder[a.role] ?? 9) - (roleOrder[b.role] ?? 9) ||
      a.key.localeCompare(b.key, 'en', { numeric: true }),
  )
  const now = Date.now()
  body.replaceChildren(
    ...rows.map((row) => {
      const move = state.moves.get(`${row.group}|${row.key}`)
      const moved = move !== undefined && move.until > now && move.to === row.nodeId
      return el(
        'tr',
        {
          'data-testid': 'placement-row',
          'data-role': row.role,
          'data-key': row.key,
          'data-node-id': row.nodeId,
          'data-moved': String(moved),
          class: `${moved ? 'moved' : ''}${row.lost ? ' lost' : ''}`,
        },
        el('td', {}, row.role),
        el('td', {}, row.key),
        el(
          'td',
          {},
          row.nodeId,
          moved ? el('span', { class: 'badge moved' }, `moved from ${move.from}`) : null,
        ),
        el('td', {}, row.state),
        el('td', {}, row.partition),
        el('td', {}, row.fencingToken),
        el('td', {}, row.revision ?? ''),
      )
    }),
  )
}

/** What kind of event it is, for its colour: a warning, a failure, a scaling decision, a config change. */
function eventClass(type) {
  if (type === 'heavy-use') return 'warning'
  if (type.includes('fail')) return 'failure'
  if (type.startsWith('scal')) return 'scaling'
  if (type.startsWith('config') || type === 'topic-discovered') return 'config'
  return 'info'
}

function summary(details) {
  return Object.entries(details)
    .map(
      ([key, value]) =>
        `${key}: ${Array.isArray(value) ? value.join('; ') : typeof value === 'object' ? JSON.stringify(value) : value}`,
    )
    .join(' · ')
}

/** The recent events, newest first. */
export function renderEvents(list, events) {
  list.replaceChildren(
    ...[...events]
      .reverse()
      .slice(0, 100)
      .map((event) =>
        el(
          'li',
          { class: `event ${eventClass(event.type)}`, 'data-testid': 'event', 'data-type': event.type },
          el('time', { datetime: event.at }, new Date(event.at).toLocaleTimeString()),
          el('span', { class: 'type' }, event.type),
          el('span', { class: 'node' }, event.nodeId),
          el('span', { class: 'details' }, summary(event.details)),
        ),
      ),
  )
}

/** The line at the top: how many nodes, how much goes through, how far behind. */
export function renderSummary(container, state) {
  const nodes = [...state.nodes.values()]
  const live = nodes.filter((n) => !n.lost)
  const total = { recordsInPerSec: 0, recordsOutPerSec: 0, unreadLag: 0 }
  for (const node of live) {
    const load = nodeLoad(node)
    for (const key of Object.keys(total)) total[key] += load[key]
  }
  const warnings = live.reduce((n, node) => n + node.warnings.length, 0)
  container.replaceChildren(
    metric(
      'nodes',
      `${live.length} up${nodes.length > live.length ? `, ${nodes.length - live.length} lost` : ''}`,
      'summary-nodes',
    ),
    metric('records in', `${formatCount(total.recordsInPerSec)}/s`, 'summary-in'),
    metric('records out', `${formatCount(total.recordsOutPerSec)}/s`, 'summary-out'),
    metric('unread lag', formatCount(total.unreadLag), 'summary-unread'),
    metric('warnings', warnings, 'summary-warnings'),
  )
}
