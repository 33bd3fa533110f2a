import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startHttpApi } from '../../src/http/server.js'
import { createLogger, type Logger } from '../../src/util/logging.js'
import {
  FakeStatusView,
  json,
  MemoryConfigStore,
  rawRequest,
  recordingLogger,
  startTestApi,
  testToken,
} from './fakes.js'

function canConnect(address: string): Promise<boolean> {
  const { hostname, port } = new URL(address)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('the server', () => {
  it('binds to 127.0.0.1 on a free port by default and reports its address', async () => {
    const { api } = await startTestApi()
    expect(api.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(new URL(api.address).port).not.toBe('0')
  })

  it('binds to the host it is given', async () => {
    const { api } = await startTestApi({ host: '127.0.0.2' })
    expect(api.address).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/)
    expect((await fetch(`${api.address}/health`)).status).toBe(200)
  })

  it('fails to start on a port already taken', async () => {
    const { api } = await startTestApi()
    const port = Number(new URL(api.address).port)
    await expect(
      startHttpApi({
        configs: new MemoryConfigStore(),
        status: new FakeStatusView(),
        token: undefined,
        logger: recordingLogger(),
        nodeId: 'n',
        port,
      }),
    ).rejects.toThrow(/EADDRINUSE/)
  })

  it('stop() closes the port, even with an idle keep-alive connection, and can be called twice', async () => {
    const api = await startHttpApi({
      configs: new MemoryConfigStore(),
      status: new FakeStatusView(),
      token: undefined,
      logger: recordingLogger(),
      nodeId: 'n',
    })
    expect((await fetch(`${api.address}/health`)).status).toBe(200) // leaves a keep-alive connection
    expect(await canConnect(api.address)).toBe(true)
    const started = Date.now()
    await api.stop()
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(await canConnect(api.address)).toBe(false)
    await expect(fetch(`${api.address}/health`)).rejects.toThrow()
    await api.stop()
  })

  it('stop() lets a write in progress finish before it resolves', async () => {
    const configs = new MemoryConfigStore(200)
    const api = await startTestApi({ configs })
    const put = api.write('/topics/tweets/config', { method: 'PUT', body: '{}' })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const stopped = api.api.stop()
    expect((await put).status).toBe(200)
    await stopped
    expect(configs.get('tweets')).toBeDefined()
    expect(await canConnect(api.api.address)).toBe(false)
  })

  it.each([
    ['GET', '/nope'],
    ['GET', '/topics/tweets'],
    ['GET', '/topics/tweets/pause'],
    ['PATCH', '/topics/tweets/config'],
    ['POST', '/health'],
  ])('answers 404 JSON for an unknown route: %s %s', async (method, path) => {
    const { url } = await startTestApi()
    const response = await fetch(url(path), { method })
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await json(response)).toEqual({ error: 'not_found', message: `no route ${method} ${path}` })
  })

  it('answers HEAD on read routes', async () => {
    const { url } = await startTestApi()
    const response = await fetch(url('/health'), { method: 'HEAD' })
    expect(response.status).toBe(200)
  })

  it('answers 500 without any internal detail when a handler fails, and logs it', async () => {
    const configs = new MemoryConfigStore()
    configs.failReads = new Error('internal detail: config cache corrupted')
    const api = await startTestApi({ configs })
    const response = await fetch(api.url('/topics'))
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({ error: 'internal_error', message: expect.any(String) })
    expect(text).not.toContain('internal detail')
    expect(text).not.toMatch(/\bat .*:\d+:\d+/)
    expect(api.logger.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({
          error: 'internal detail: config cache corrupted',
          path: '/topics',
        }),
      }),
    )
  })

  it('answers 400 JSON for a malformed URL', async () => {
    const { api } = await startTestApi()
    const response = await rawRequest(api.address, '/topics/%E0%A4%A/config')
    expect(response.status).toBe(400)
    expect(JSON.parse(response.body)).toMatchObject({ error: 'bad_request', message: expect.any(String) })
    expect(response.body).not.toMatch(/\bat .*:\d+:\d+/)
  })

  it('marks every answer no-store and nosniff, errors included', async () => {
    const { url } = await startTestApi()
    for (const path of ['/health', '/nope', '/topics/x/config']) {
      const response = await fetch(url(path))
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    }
  })

  it('logs one line per request with method, path, status and duration', async () => {
    const api = await startTestApi()
    await fetch(api.url('/topics/none/config?verbose=1'))
    const entry = api.logger.entries.find((e) => e.message === 'http request')
    expect(entry?.fields).toEqual({
      component: 'http',
      method: 'GET',
      path: '/topics/none/config',
      statusCode: 404,
      durationMs: expect.any(Number),
    })
  })
})

/** A logger that writes every entry to both. */
function tee(a: Logger, b: Logger): Logger {
  return {
    debug: (message, fields) => {
      a.debug(message, fields)
      b.debug(message, fields)
    },
    info: (message, fields) => {
      a.info(message, fields)
      b.info(message, fields)
    },
    warn: (message, fields) => {
      a.warn(message, fields)
      b.warn(message, fields)
    },
    error: (message, fields) => {
      a.error(message, fields)
      b.error(message, fields)
    },
    child: (bindings) => tee(a.child(bindings), b.child(bindings)),
  }
}

describe('the token is never logged', () => {
  let dir: string | undefined
  afterEach(async () => {
    vi.restoreAllMocks()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('appears in no log line, whatever the request does', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdp-http-log-'))
    const file = join(dir, 'log.jsonl')
    const handle = await open(file, 'w')
    const printed: string[] = []
    const capture = (chunk: unknown): boolean => {
      printed.push(String(chunk))
      return true
    }
    vi.spyOn(process.stdout, 'write').mockImplementation(capture)
    vi.spyOn(process.stderr, 'write').mockImplementation(capture)

    const recorder = recordingLogger()
    const pino = createLogger({ level: 'debug', destination: handle.fd })
    const both = tee(recorder, pino)
    const configs = new MemoryConfigStore()
    configs.seed('tweets')
    const api = await startTestApi({
      configs,
      logger: both,
      knownTopics: async () => {
        throw new Error('cannot list')
      },
    })
    const bearer = { authorization: `Bearer ${testToken}` }
    const wrong = { authorization: `Bearer ${testToken}-wrong` }
    const requests: Array<[string, string, RequestInit]> = [
      ['PUT ok', '/topics/tweets/config', { method: 'PUT', headers: bearer, body: '{"parallelism":2}' }],
      [
        'PUT bad body',
        '/topics/tweets/config',
        { method: 'PUT', headers: bearer, body: '{"parallelism":"x"' },
      ],
      [
        'PUT bad field',
        '/topics/tweets/config',
        { method: 'PUT', headers: bearer, body: '{"parallelism":"x"}' },
      ],
      [
        'PUT too large',
        '/topics/tweets/config',
        { method: 'PUT', headers: bearer, body: 'x'.repeat(70_000) },
      ],
      ['wrong token', '/topics/tweets/pause', { method: 'POST', headers: wrong }],
      ['pause', '/topics/tweets/pause', { method: 'POST', headers: bearer }],
      ['list', '/topics', { headers: bearer }],
      ['unknown route', '/nope/x', { method: 'POST', headers: bearer }],
    ]
    for (const [name, path, init] of requests) {
      const response = await api.write(path, init)
      expect(response.status, name).toBeGreaterThan(0)
    }
    configs.failWrites = new Error('store down')
    expect((await api.write('/topics/tweets/restart', { headers: bearer })).status).toBe(503)
    configs.failReads = new Error('store broken')
    expect((await fetch(api.url('/topics'), { headers: bearer })).status).toBe(500)
    await api.api.stop()
    await handle.close()

    const written = await readFile(file, 'utf8')
    const recorded = JSON.stringify(recorder.entries)
    // The capture works: the requests, the store failure and the 500 were all logged...
    expect(written).toContain('"http request"')
    expect(written).toContain('store down')
    expect(written).toContain('store broken')
    expect(recorder.entries.filter((e) => e.message === 'http request').length).toBeGreaterThanOrEqual(10)
    // ...and neither the token nor the header is anywhere.
    for (const text of [written, recorded, printed.join('')]) {
      expect(text).not.toContain(testToken)
      expect(text.toLowerCase()).not.toContain('bearer')
      expect(text.toLowerCase()).not.toContain('authorization')
    }
  })
})
