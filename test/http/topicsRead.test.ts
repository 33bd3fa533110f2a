import { describe, expect, it } from 'vitest'
import { defaultFields, json, MemoryConfigStore, rawRequest, startTestApi } from './fakes.js'

describe('reading topic configs', () => {
  it('GET /topics lists configured topics with their configs, sorted', async () => {
    const configs = new MemoryConfigStore()
    const tweets = configs.seed('tweets', { paused: true })
    const clicks = configs.seed('clicks')
    const { url } = await startTestApi({ configs })
    const response = await fetch(url('/topics'))
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual([
      { topic: 'clicks', config: clicks, stopped: [] },
      { topic: 'tweets', config: tweets, stopped: [] },
    ])
  })

  it('GET /topics answers [] when nothing is configured', async () => {
    const { url } = await startTestApi()
    expect(await json(await fetch(url('/topics')))).toEqual([])
  })

  it('GET /topics adds the Kafka topics without a config, with config null, once each', async () => {
    const configs = new MemoryConfigStore()
    const tweets = configs.seed('tweets')
    const { url } = await startTestApi({
      configs,
      knownTopics: async () => ['zebra', 'tweets', 'audit', 'audit'],
    })
    expect(await json(await fetch(url('/topics')))).toEqual([
      { topic: 'audit', config: null, stopped: [] },
      { topic: 'tweets', config: tweets, stopped: [] },
      { topic: 'zebra', config: null, stopped: [] },
    ])
  })

  it('GET /topics lists the configured topics (and logs a warning) when Kafka topics cannot be listed', async () => {
    const configs = new MemoryConfigStore()
    const tweets = configs.seed('tweets')
    const api = await startTestApi({
      configs,
      knownTopics: async () => {
        throw new Error('broker unreachable')
      },
    })
    const response = await fetch(api.url('/topics'))
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual([{ topic: 'tweets', config: tweets, stopped: [] }])
    expect(api.logger.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({ error: 'broker unreachable' }),
      }),
    )
  })

  it('GET /topics does not wait forever for a Kafka topic listing that hangs', async () => {
    const configs = new MemoryConfigStore()
    configs.seed('tweets')
    const { url } = await startTestApi({
      configs,
      knownTopics: () => new Promise<string[]>(() => {}),
      knownTopicsTimeoutMs: 100,
    })
    const started = Date.now()
    const response = await fetch(url('/topics'))
    expect(response.status).toBe(200)
    expect(await json(response)).toHaveLength(1)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('GET /topics/:topic/config answers the stored config', async () => {
    const configs = new MemoryConfigStore()
    const stored = configs.seed('tweets.v1_raw-2', { parallelism: 4 })
    const { url } = await startTestApi({ configs })
    const response = await fetch(url('/topics/tweets.v1_raw-2/config'))
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual(stored)
    expect(stored).toMatchObject({ ...defaultFields, parallelism: 4, version: 1, topic: 'tweets.v1_raw-2' })
  })

  it('GET /topics/:topic/config answers 404 not_found for a topic without config', async () => {
    const { url } = await startTestApi()
    const response = await fetch(url('/topics/nothing-here/config'))
    expect(response.status).toBe(404)
    expect(await json(response)).toEqual({
      error: 'not_found',
      message: expect.stringContaining('nothing-here'),
    })
  })

  it.each([
    ['a space', 'bad%20topic'],
    ['a star', 'a*b'],
    ['a colon', 'a%3Ab'],
    ['an encoded slash', 'a%2Fb'],
    ['a non-ASCII letter', 'caf%C3%A9'],
    ['250 characters', 'x'.repeat(250)],
  ])('GET /topics/:topic/config answers 400 invalid_topic for a name with %s', async (_, name) => {
    const { url } = await startTestApi()
    const response = await fetch(url(`/topics/${name}/config`))
    expect(response.status).toBe(400)
    expect(await json(response)).toEqual({
      error: 'invalid_topic',
      message: expect.any(String),
      fields: [{ path: 'topic', message: expect.stringContaining('Kafka topic name') }],
    })
  })

  it.each(['%2E', '%2E%2E', '.%2E'])(
    'answers 400 invalid_topic for the dot names Kafka refuses (%s)',
    async (name) => {
      const { api } = await startTestApi()
      // fetch would resolve dot segments away; send the raw path.
      const response = await rawRequest(api.address, `/topics/${name}/config`)
      expect(response.status).toBe(400)
      expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_topic', fields: [{ path: 'topic' }] })
    },
  )

  it('accepts the longest valid topic name (249 characters)', async () => {
    const configs = new MemoryConfigStore()
    const name = 'y'.repeat(249)
    configs.seed(name)
    const { url } = await startTestApi({ configs })
    expect((await fetch(url(`/topics/${name}/config`))).status).toBe(200)
  })
})
