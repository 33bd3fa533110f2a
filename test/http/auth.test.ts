import { describe, expect, it } from 'vitest'
import { json, MemoryConfigStore, startTestApi } from './fakes.js'

const writes: Array<[string, string]> = [
  ['PUT', '/topics/tweets/config'],
  ['DELETE', '/topics/tweets/config'],
  ['POST', '/topics/tweets/pause'],
  ['POST', '/topics/tweets/resume'],
  ['POST', '/topics/tweets/restart'],
]

function seeded(): MemoryConfigStore {
  const configs = new MemoryConfigStore()
  configs.seed('tweets')
  return configs
}

function request(method: string, headers: Record<string, string> = {}): RequestInit {
  return method === 'PUT'
    ? { method, headers: { 'content-type': 'application/json', ...headers }, body: '{}' }
    : { method, headers }
}

describe('write authentication', () => {
  it.each(writes)(
    '%s %s without Authorization answers 401 with WWW-Authenticate: Bearer',
    async (method, path) => {
      const api = await startTestApi({ configs: seeded() })
      const response = await fetch(api.url(path), request(method))
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/)
      expect(await json(response)).toEqual({ error: 'unauthorized', message: expect.any(String) })
      expect(api.configs.writes).toBe(0)
    },
  )

  it.each(writes)('%s %s with a wrong token answers 403', async (method, path) => {
    const api = await startTestApi({ configs: seeded() })
    const response = await fetch(api.url(path), request(method, { authorization: `Bearer ${api.token}x` }))
    expect(response.status).toBe(403)
    expect(await json(response)).toEqual({ error: 'forbidden', message: expect.any(String) })
    expect(api.configs.writes).toBe(0)
  })

  it.each(writes)('%s %s with the right token passes', async (method, path) => {
    const api = await startTestApi({ configs: seeded() })
    const response = await fetch(api.url(path), request(method, { authorization: `Bearer ${api.token}` }))
    expect(response.status).toBeLessThan(300)
  })

  it('accepts the scheme in any case', async () => {
    const api = await startTestApi({ configs: seeded() })
    const response = await fetch(api.url('/topics/tweets/pause'), {
      method: 'POST',
      headers: { authorization: `bearer ${api.token}` },
    })
    expect(response.status).toBe(200)
  })

  it.each([
    ['another scheme', (token: string) => `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`],
    ['the bare token', (token: string) => token],
    ['an empty bearer', () => 'Bearer '],
  ])('answers 401 for %s', async (_, header) => {
    const api = await startTestApi({ configs: seeded() })
    const response = await fetch(api.url('/topics/tweets/pause'), {
      method: 'POST',
      headers: { authorization: header(api.token) },
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/)
  })

  it('refuses a token that only shares a prefix, or is longer', async () => {
    const api = await startTestApi({ configs: seeded() })
    for (const guess of [api.token.slice(0, -1), `${api.token}${api.token}`, api.token.toUpperCase()]) {
      const response = await fetch(api.url('/topics/tweets/pause'), {
        method: 'POST',
        headers: { authorization: `Bearer ${guess}` },
      })
      expect(response.status).toBe(403)
    }
  })

  it.each([
    ['undefined', undefined],
    ['empty', ''],
  ])('with the token %s, every write answers 403 saying writes are disabled', async (_, token) => {
    const api = await startTestApi({ configs: seeded(), token })
    for (const [method, path] of writes) {
      const variants: Array<Record<string, string>> = [
        {},
        { authorization: 'Bearer ' },
        { authorization: 'Bearer anything' },
      ]
      for (const headers of variants) {
        const response = await fetch(api.url(path), request(method, headers))
        expect(response.status).toBe(403)
        expect(await json(response)).toEqual({
          error: 'forbidden',
          message: expect.stringMatching(/writes are disabled until an API token is configured/),
        })
      }
    }
    expect(api.configs.writes).toBe(0)
    // Reads stay open.
    expect((await fetch(api.url('/topics/tweets/config'))).status).toBe(200)
  })

  it('checks the token before the body: an unauthenticated malformed or huge body answers 401', async () => {
    const api = await startTestApi()
    const malformed = await fetch(api.url('/topics/tweets/config'), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    })
    expect(malformed.status).toBe(401)
    const huge = await fetch(api.url('/topics/tweets/config'), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' },
      body: JSON.stringify({ pathTemplate: 'x'.repeat(100 * 1024) }),
    })
    expect(huge.status).toBe(403)
  })

  it('reads need no token', async () => {
    const api = await startTestApi({ configs: seeded() })
    for (const path of [
      '/health',
      '/topics',
      '/topics/tweets/config',
      '/nodes',
      '/processes',
      '/openapi.json',
    ]) {
      expect((await fetch(api.url(path))).status).toBe(200)
    }
  })
})
