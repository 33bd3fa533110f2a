// Edits through the API, with the token the user types. The token lives in this module's memory
// only: never in storage, a cookie or a URL, and it is gone when the page is closed or "Forget" is
// pressed. Writes go to the node that served the page: other nodes allow reads only across origins.

let token = null
const listeners = new Set()

export function hasToken() {
  return token !== null
}

/** Calls `listener` whenever the token is set or forgotten. */
export function onTokenChange(listener) {
  listeners.add(listener)
}

/** Wires the token form: "Use" keeps what was typed (and clears the field), "Forget" drops it. */
export function setupTokenForm() {
  const form = document.getElementById('token-form')
  const input = document.getElementById('token')
  const forget = document.getElementById('forget')
  const label = document.getElementById('token-state')
  const changed = () => {
    label.textContent = token ? 'edits enabled' : 'read-only'
    forget.disabled = token === null
    for (const listener of listeners) listener()
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const typed = input.value.trim()
    input.value = ''
    token = typed === '' ? null : typed
    changed()
  })
  forget.addEventListener('click', () => {
    token = null
    changed()
  })
}

/** What the user may change in a config: everything but its identity and bookkeeping. */
export function editableFields(config) {
  const { version: _version, topic: _topic, revision: _revision, updatedAt: _updatedAt, ...fields } = config
  return fields
}

/**
 * One write to the page's own node. Resolves with the outcome as a line for the user (400s list
 * their fields); never throws.
 */
export async function write(method, path, body) {
  if (token === null) return { ok: false, message: 'type the API token first' }
  const headers = { authorization: `Bearer ${token}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  let response
  try {
    response = await fetch(`${location.origin}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    })
  } catch {
    return {
      ok: false,
      message: `the node that served this page (${location.origin}) does not answer; edits go through it — open the dashboard of another node`,
    }
  }
  if (response.ok) return { ok: true, message: 'saved' }
  let detail = `${response.status}`
  try {
    const error = await response.json()
    detail = error.fields?.length
      ? `${error.message}: ${error.fields.map((f) => `${f.path || '(body)'} ${f.message}`).join('; ')}`
      : error.message
  } catch {
    // Not our error shape: the status says enough.
  }
  return { ok: false, message: detail }
}
