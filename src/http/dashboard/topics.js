// One panel per topic: its current totals, its ticker charts, and its config (read-only, or edited
// through the API once a token is typed).

import { TopicCharts } from './charts.js'
import { editableFields, hasToken, write } from './editor.js'
import { el, formatCount } from './view.js'

class TopicPanel {
  constructor(topic, container) {
    this.topic = topic
    this.editing = false
    this.totals = el('div', { class: 'totals', 'data-testid': 'topic-totals' })
    this.revision = el('span', { class: 'revision', 'data-testid': 'topic-revision' })
    this.paused = el('span', { class: 'badge paused', hidden: true }, 'paused')
    this.pre = el('pre', { 'data-testid': 'topic-config' })
    this.textarea = el('textarea', {
      rows: 18,
      spellcheck: 'false',
      hidden: true,
      'aria-label': `config of ${topic}`,
    })
    this.message = el('p', { class: 'message', 'data-testid': 'topic-message' })
    this.edit = el('button', { type: 'button' }, 'Edit')
    this.save = el('button', { type: 'button', hidden: true }, 'Save')
    this.cancel = el('button', { type: 'button', hidden: true }, 'Cancel')
    this.pause = el('button', { type: 'button' }, 'Pause')
    const charts = el('div', { class: 'charts' })
    this.root = el(
      'article',
      { class: 'topic', 'data-testid': 'topic', 'data-topic': topic },
      el('h3', {}, topic, ' ', this.revision, this.paused),
      this.totals,
      charts,
      el(
        'details',
        { class: 'config' },
        el('summary', {}, 'config'),
        this.pre,
        this.textarea,
        el('div', { class: 'actions' }, this.edit, this.save, this.cancel, this.pause),
        this.message,
      ),
    )
    container.append(this.root)
    this.charts = new TopicCharts(charts)
    this.edit.addEventListener('click', () => this.startEditing())
    this.cancel.addEventListener('click', () => this.stopEditing())
    this.save.addEventListener('click', () => void this.submit())
    this.pause.addEventListener('click', () => void this.togglePause())
  }

  show(config, latest) {
    this.config = config
    this.revision.textContent = config ? `revision ${config.revision}` : 'no config'
    this.root.dataset.revision = config ? String(config.revision) : ''
    this.paused.hidden = !config?.paused
    this.pre.textContent = config ? JSON.stringify(editableFields(config), null, 2) : '(none: not archived)'
    this.pause.textContent = config?.paused ? 'Resume' : 'Pause'
    const t = latest?.topics[this.topic]
    this.totals.replaceChildren(
      el(
        'span',
        {},
        'in ',
        el('b', { 'data-testid': 'topic-in' }, formatCount(t?.recordsInPerSec ?? 0)),
        ' rec/s',
      ),
      el(
        'span',
        {},
        'out ',
        el('b', { 'data-testid': 'topic-out' }, formatCount(t?.recordsOutPerSec ?? 0)),
        ' rec/s',
      ),
      el(
        'span',
        {},
        'unread lag ',
        el('b', { 'data-testid': 'topic-unread' }, formatCount(t?.unreadLag ?? 0)),
      ),
      el('span', {}, 'buffered ', el('b', {}, formatCount(t?.bufferedRecords ?? 0))),
      el('span', {}, 'committed lag ', el('b', {}, formatCount(t?.committedLag ?? 0))),
    )
    this.allow()
  }

  /** Edits need a token and a config. */
  allow() {
    const can = hasToken() && this.config !== undefined && this.config !== null
    this.edit.disabled = !can || this.editing
    this.pause.disabled = !can
    this.edit.title = can ? '' : 'type the API token above to edit'
  }

  startEditing() {
    if (!this.config) return
    this.editing = true
    this.textarea.value = JSON.stringify(editableFields(this.config), null, 2)
    this.textarea.hidden = false
    this.pre.hidden = true
    this.save.hidden = false
    this.cancel.hidden = false
    this.message.textContent = ''
    this.allow()
  }

  stopEditing() {
    this.editing = false
    this.textarea.hidden = true
    this.pre.hidden = false
    this.save.hidden = true
    this.cancel.hidden = true
    this.allow()
  }

  async submit() {
    let body
    try {
      body = JSON.parse(this.textarea.value)
    } catch (error) {
      this.message.textContent = `not JSON: ${error.message}`
      return
    }
    const result = await write('PUT', `/topics/${encodeURIComponent(this.topic)}/config`, body)
    this.message.textContent = result.message
    if (result.ok) this.stopEditing()
  }

  async togglePause() {
    const action = this.config?.paused ? 'resume' : 'pause'
    const result = await write('POST', `/topics/${encodeURIComponent(this.topic)}/${action}`)
    this.message.textContent = result.ok ? `${action}d` : result.message
  }
}

export class TopicPanels {
  /** @param {HTMLElement} container */
  constructor(container) {
    this.container = container
    /** @type {Map<string, TopicPanel>} */
    this.panels = new Map()
    let pending
    window.addEventListener('resize', () => {
      clearTimeout(pending)
      pending = setTimeout(() => {
        for (const panel of this.panels.values()) panel.charts.fit(panel.root)
      }, 200)
    })
  }

  /** Brings the panels in line with the configs and the ticker: one per topic, sorted. */
  render(state) {
    const latest = state.history.at(-1)
    const topics = new Set(state.configs.keys())
    for (const point of state.history) for (const topic of Object.keys(point.topics)) topics.add(topic)
    for (const [topic, panel] of this.panels) {
      if (topics.has(topic)) continue
      panel.charts.destroy()
      panel.root.remove()
      this.panels.delete(topic)
    }
    for (const topic of [...topics].sort()) {
      let panel = this.panels.get(topic)
      if (!panel) {
        panel = new TopicPanel(topic, this.container)
        this.panels.set(topic, panel)
      }
      this.container.append(panel.root)
      panel.show(state.configs.get(topic) ?? null, latest)
    }
    this.drawCharts(state)
  }

  drawCharts(state) {
    for (const [topic, panel] of this.panels) panel.charts.update(state.history, topic)
  }

  tokenChanged() {
    for (const panel of this.panels.values()) panel.allow()
  }
}
