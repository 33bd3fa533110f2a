// The dashboard's files as every node serves them: the page, its modules and uPlot's own dist
// files, with nothing from elsewhere; no way out of the folder.
import { describe, expect, it } from 'vitest'
import { rawRequest, startTestApi } from '../fakes.js'

describe('the dashboard page and its files', () => {
  it('serves the page at / and /dashboard with a policy that loads nothing from elsewhere', async () => {
    const api = await startTestApi()
    for (const path of ['/', '/dashboard']) {
      const response = await fetch(api.url(path))
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
      const policy = response.headers.get('content-security-policy') ?? ''
      expect(policy).toContain("script-src 'self'")
      expect(policy).toContain("frame-ancestors 'none'")
      const html = await response.text()
      expect(html).toContain('<script type="module" src="/dashboard/app.js">')
      expect(html).not.toMatch(/(?:src|href)="https?:/)
      // The token is typed by the user; the page never carries it.
      expect(html).not.toContain(api.token)
    }
  })

  it('serves every file the page and its modules refer to, and uPlot from the package', async () => {
    const api = await startTestApi()
    const html = await (await fetch(api.url('/'))).text()
    const referenced = [...html.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!)
    expect(referenced).toEqual(
      expect.arrayContaining([
        '/dashboard/vendor/uPlot.min.css',
        '/dashboard/vendor/uPlot.iife.min.js',
        '/dashboard/app.css',
        '/dashboard/app.js',
      ]),
    )
    const seen = new Set<string>()
    const queue = [...referenced]
    while (queue.length > 0) {
      const path = queue.shift()!
      if (seen.has(path)) continue
      seen.add(path)
      const response = await fetch(api.url(path))
      expect(response.status, path).toBe(200)
      const type = response.headers.get('content-type') ?? ''
      const text = await response.text()
      if (path.endsWith('.js')) {
        expect(type, path).toBe('text/javascript; charset=utf-8')
        // Modules import each other relatively, and nothing outside.
        for (const m of text.matchAll(/^import .* from '([^']+)'$/gm)) {
          expect(m[1], path).toMatch(/^\.\/[a-z]+\.js$/)
          queue.push(`/dashboard/${m[1]!.slice(2)}`)
        }
        // It talks to the nodes of the cluster only: no fixed address anywhere.
        expect(text, path).not.toMatch(/(?:fetch|EventSource)\(\s*['"`]https?:/)
      } else expect(type, path).toBe('text/css; charset=utf-8')
    }
    expect([...seen].filter((p) => p.endsWith('.js')).length).toBeGreaterThanOrEqual(6)
    expect((await fetch(api.url('/dashboard/vendor/uPlot.iife.min.js'))).status).toBe(200)
  })

  it('answers 404 for anything else under /dashboard, however it is spelt', async () => {
    const api = await startTestApi()
    for (const path of [
      '/dashboard/nothing.js',
      '/dashboard/../package.json',
      '/dashboard/%2e%2e/package.json',
      '/dashboard/vendor/../../../../etc/passwd',
      '/dashboard/vendor/uPlot.cjs.js',
    ]) {
      const response = await rawRequest(api.api.address, path)
      expect(response.status, path).toBe(404)
      expect(response.body, path).not.toContain('root:')
    }
  })
})
