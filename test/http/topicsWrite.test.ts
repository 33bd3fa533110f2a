import { describe, expect, it } from 'vitest'
import type { TopicConfig } from '../../src/processes/state/topicConfig.js'
import { defaultFields, json, MemoryConfigStore, startTestApi } from './fakes.js'

const fullConfig = {
  sinks: [
    { id: 'main', url: 's3://archive-bucket/tweets' },
    { id: 'local-copy', url: 'file:///var/archive' },
  ],
  pathTemplate: 'lang={$.lang}/{yyyy}/{MM}/{dd}/{HH}',
  time: { field: '$.created_at', format: 'iso', granularity: 'minute', timeZone: 'Europe/Paris' },
  rotation: { maxBytes: 1_000_000, maxRecords: 5_000, maxSpanMs: 60_000, maxAgeMs: 30_000 },
  format: 'raw',
  compression: 'none',
  sortBy: '$.id',
  maxMessagesInFlight: 500,
  maxBytesInFlight: 4_000_000,
  parallelism: 8,
  badRecordPolicy: 'skip',
  dlqTopic: 'tweets-dead',
  paused: true,
}

describe('writing topic configs', () => {
  it('PUT {} stores a config with every default and answers it', async () => {
    const api = await startTestApi()
    const response = await api.write('/topics/tweets/config', { method: 'PUT', body: '{}' })
    expect(response.status).toBe(200)
    const stored = (await json(response)) as TopicConfig
    expect(stored).toEqual({
      ...defaultFields,
      version: 1,
      topic: 'tweets',
      revision: 1,
      updatedAt: expect.any(String),
    })
    expect(api.configs.get('tweets')).toEqual(stored)
  })

  it('PUT stores every field as given, and a GET answers the same', async () => {
    const api = await startTestApi()
    const response = await api.write('/topics/tweets/config', {
      method: 'PUT',
      body: JSON.stringify(fullConfig),
    })
    expect(response.status).toBe(200)
    const stored = await json(response)
    expect(stored).toMatchObject(fullConfig)
    expect(await json(await fetch(api.url('/topics/tweets/config')))).toEqual(stored)
  })

  it('PUT replaces a config whole: fields left out go back to their defaults', async () => {
    const configs = new MemoryConfigStore()
    const first = configs.seed('tweets', { parallelism: 8, format: 'raw' })
    const api = await startTestApi({ configs })
    const response = await api.write('/topics/tweets/config', {
      method: 'PUT',
      body: '{"compression":"none"}',
    })
    const stored = (await json(response)) as TopicConfig
    expect(stored).toMatchObject({ ...defaultFields, compression: 'none' })
    expect(stored.revision).toBeGreaterThan(first.revision)
  })

  it('PUT answers only once the store reads its own write back, so a GET right after sees it', async () => {
    const configs = new MemoryConfigStore(150)
    const api = await startTestApi({ configs })
    const put = api.write('/topics/tweets/config', { method: 'PUT', body: '{"parallelism":3}' })
    // While the write is on its way, the store does not show it yet...
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect((await fetch(api.url('/topics/tweets/config'))).status).toBe(404)
    // ...and the PUT answers only after it does.
    const response = await put
    expect(response.status).toBe(200)
    const after = await fetch(api.url('/topics/tweets/config'))
    expect(after.status).toBe(200)
    expect(await json(after)).toMatchObject({ topic: 'tweets', parallelism: 3 })
    expect(await json(await fetch(api.url('/topics')))).toEqual([
      { topic: 'tweets', config: expect.objectContaining({ parallelism: 3 }), stopped: [] },
    ])
  })

  it('DELETE answers 204 with no body, then the config is gone; a second DELETE answers 404', async () => {
    const configs = new MemoryConfigStore(50)
    configs.seed('tweets')
    const api = await startTestApi({ configs })
    const response = await api.write('/topics/tweets/config', { method: 'DELETE' })
    expect(response.status).toBe(204)
    expect(await response.text()).toBe('')
    expect((await fetch(api.url('/topics/tweets/config'))).status).toBe(404)
    const again = await api.write('/topics/tweets/config', { method: 'DELETE' })
    expect(again.status).toBe(404)
    expect(await json(again)).toMatchObject({ error: 'not_found' })
  })

  it('POST pause and resume set paused, keep every other field and bump the revision', async () => {
    const configs = new MemoryConfigStore()
    const seeded = configs.seed('tweets', { parallelism: 5, sinks: [{ id: 'main', url: 's3://bucket-a/x' }] })
    const api = await startTestApi({ configs })

    const paused = await api.write('/topics/tweets/pause')
    expect(paused.status).toBe(200)
    const pausedConfig = (await json(paused)) as TopicConfig
    expect(pausedConfig).toEqual({
      ...seeded,
      paused: true,
      revision: expect.any(Number),
      updatedAt: expect.any(String),
    })
    expect(pausedConfig.revision).toBeGreaterThan(seeded.revision)
    expect(configs.get('tweets')?.paused).toBe(true)

    const resumed = await api.write('/topics/tweets/resume')
    expect(resumed.status).toBe(200)
    const resumedConfig = (await json(resumed)) as TopicConfig
    expect(resumedConfig).toEqual({
      ...seeded,
      paused: false,
      revision: expect.any(Number),
      updatedAt: expect.any(String),
    })
    expect(resumedConfig.revision).toBeGreaterThan(pausedConfig.revision)
    expect(configs.get('tweets')?.paused).toBe(false)
  })

  it('POST restart rewrites the same fields, which bumps the revision', async () => {
    const configs = new MemoryConfigStore()
    const seeded = configs.seed('tweets', {
      paused: true,
      rotation: { ...defaultFields.rotation, maxRecords: 7 },
    })
    const api = await startTestApi({ configs })
    const response = await api.write('/topics/tweets/restart')
    expect(response.status).toBe(200)
    const restarted = (await json(response)) as TopicConfig
    expect(restarted).toEqual({ ...seeded, revision: expect.any(Number), updatedAt: expect.any(String) })
    expect(restarted.revision).toBeGreaterThan(seeded.revision)
    expect(configs.writes).toBe(1)
  })

  it.each(['pause', 'resume', 'restart'])(
    'POST %s answers 404 for a topic without config',
    async (action) => {
      const api = await startTestApi()
      const response = await api.write(`/topics/nothing/${action}`)
      expect(response.status).toBe(404)
      expect(await json(response)).toEqual({
        error: 'not_found',
        message: expect.stringContaining('nothing'),
      })
    },
  )

  it('POST pause accepts an empty body sent as application/json, and ignores a JSON body', async () => {
    const configs = new MemoryConfigStore()
    configs.seed('tweets')
    const api = await startTestApi({ configs })
    const empty = await api.write('/topics/tweets/pause', { headers: { 'content-type': 'application/json' } })
    expect(empty.status).toBe(200)
    const withBody = await api.write('/topics/tweets/resume', { body: '{"paused":true}' })
    expect(withBody.status).toBe(200)
    expect(await json(withBody)).toMatchObject({ paused: false })
  })

  it.each([
    ['PUT', '/topics/bad%20name/config', '{}'],
    ['DELETE', '/topics/bad%20name/config', undefined],
    ['POST', '/topics/bad%20name/pause', undefined],
    ['POST', '/topics/a*b/resume', undefined],
    ['POST', `/topics/${'z'.repeat(250)}/restart`, undefined],
  ])('%s %s answers 400 invalid_topic and writes nothing', async (method, path, body) => {
    const api = await startTestApi()
    const response = await api.write(path, { method, ...(body === undefined ? {} : { body }) })
    expect(response.status).toBe(400)
    expect(await json(response)).toEqual({
      error: 'invalid_topic',
      message: expect.any(String),
      fields: [{ path: 'topic', message: expect.any(String) }],
    })
    expect(api.configs.writes).toBe(0)
  })

  it.each([
    ['PUT', '/topics/tweets/config', '{}'],
    ['DELETE', '/topics/tweets/config', undefined],
    ['POST', '/topics/tweets/pause', undefined],
    ['POST', '/topics/tweets/restart', undefined],
  ])(
    '%s %s answers 503 unavailable with Retry-After when the store cannot write',
    async (method, path, body) => {
      const configs = new MemoryConfigStore()
      configs.seed('tweets')
      configs.failWrites = new Error('KafkaJSConnectionError: broker down at /internal/path.ts:12')
      const api = await startTestApi({ configs })
      const response = await api.write(path, { method, ...(body === undefined ? {} : { body }) })
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('5')
      const text = await response.text()
      expect(JSON.parse(text)).toEqual({ error: 'unavailable', message: expect.stringContaining('tweets') })
      expect(text).not.toContain('broker down')
      expect(api.logger.entries).toContainEqual(
        expect.objectContaining({ level: 'error', fields: expect.objectContaining({ topic: 'tweets' }) }),
      )
    },
  )
})
