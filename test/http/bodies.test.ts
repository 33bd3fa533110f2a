import { describe, expect, it } from 'vitest'
import { json, startTestApi } from './fakes.js'

interface ErrorBody {
  error: string
  message: string
  fields?: Array<{ path: string; message: string }>
}

async function put(body: string, headers: Record<string, string> = {}, topic = 'tweets') {
  const api = await startTestApi()
  const response = await api.write(`/topics/${topic}/config`, { method: 'PUT', body, headers })
  const text = await response.text()
  return { api, status: response.status, text, body: JSON.parse(text) as ErrorBody }
}

describe('PUT body validation', () => {
  it('lists every bad field with its path and reason in one 400, and stores nothing', async () => {
    const { api, status, body } = await put(
      JSON.stringify({
        sinks: [{ id: 'Main Sink', url: 'http://example.com' }],
        rotation: { maxBytes: 'large', maxRecords: -1 },
        time: { granularity: 'week', timeZone: 'Mars/Olympus' },
        parallelism: 0,
        format: 'csv',
        paused: 'yes',
        dlqTopic: 'bad topic',
      }),
    )
    expect(status).toBe(400)
    expect(body.error).toBe('invalid_body')
    expect(body.message).toContain('rotation.maxBytes')
    const paths = (body.fields ?? [])
      .map((f) => f.path)
      .filter((p) => !p.startsWith('dlqTopic'))
      .sort()
    expect(paths).toEqual(
      [
        'sinks.0.id',
        'sinks.0.url',
        'rotation.maxBytes',
        'rotation.maxRecords',
        'time.granularity',
        'time.timeZone',
        'parallelism',
        'format',
        'paused',
      ].sort(),
    )
    // A nullable field's error: its path starts with the field (see the report on union paths).
    expect(body.fields?.some((f) => f.path === 'dlqTopic' || f.path.startsWith('dlqTopic.'))).toBe(true)
    expect(body.fields).toContainEqual({
      path: 'rotation.maxBytes',
      message: expect.stringContaining('"large"'),
    })
    expect(api.configs.writes).toBe(0)
    expect(api.configs.list()).toEqual([])
  })

  it('refuses unknown fields (a typo must not pass silently), alongside bad ones', async () => {
    const { status, body } = await put(JSON.stringify({ paralelism: 2, colour: 'red', format: 'csv' }))
    expect(status).toBe(400)
    expect(body.error).toBe('invalid_body')
    expect(body.fields).toEqual(
      expect.arrayContaining([
        { path: 'paralelism', message: 'unknown field' },
        { path: 'colour', message: 'unknown field' },
        { path: 'format', message: expect.any(String) },
      ]),
    )
    expect(body.fields).toHaveLength(3)
  })

  it('lists a bad topic name and bad body fields together', async () => {
    const { status, body } = await put('{"parallelism":999}', {}, 'bad%20topic')
    expect(status).toBe(400)
    expect(body.error).toBe('invalid_body')
    expect(body.fields?.map((f) => f.path)).toEqual(['topic', 'parallelism'])
  })

  it.each([
    ['a truncated object', '{"parallelism": 2'],
    ['a trailing comma', '{"parallelism": 2,}'],
    ['single quotes', "{'parallelism': 2}"],
    ['plain text', 'parallelism=2'],
  ])('answers 400 invalid_body for malformed JSON: %s', async (_, text) => {
    const { status, body } = await put(text)
    expect(status).toBe(400)
    expect(body).toMatchObject({ error: 'invalid_body', message: expect.stringContaining('not valid JSON') })
  })

  it.each([
    ['an array', '[]'],
    ['a string', '"tweets"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
  ])('answers 400 invalid_body for a body that is %s, not an object', async (_, text) => {
    const { status, body } = await put(text)
    expect(status).toBe(400)
    expect(body).toEqual({
      error: 'invalid_body',
      message: expect.any(String),
      fields: [{ path: '', message: 'the body must be a JSON object' }],
    })
  })

  it('answers 400 when the body is missing', async () => {
    const api = await startTestApi()
    const response = await api.write('/topics/tweets/config', { method: 'PUT' })
    expect(response.status).toBe(400)
    expect(await json(response)).toEqual({
      error: 'invalid_body',
      message: expect.any(String),
      fields: [{ path: '', message: expect.stringContaining('JSON object body is required') }],
    })
  })

  it.each([
    ['text/plain', 'text/plain'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['xml', 'application/xml'],
  ])('answers 400 for a body sent as %s', async (_, type) => {
    const { status, body } = await put('{}', { 'content-type': type })
    expect(status).toBe(400)
    expect(body).toMatchObject({
      error: 'invalid_body',
      message: expect.stringContaining('application/json'),
    })
  })

  it('accepts application/json with a charset, and +json types', async () => {
    expect((await put('{}', { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200)
    expect((await put('{}', { 'content-type': 'application/merge-patch+json' })).status).toBe(200)
  })

  it('answers 413 payload_too_large for a body over 64 KiB', async () => {
    const api = await startTestApi()
    const big = JSON.stringify({ pathTemplate: 'x'.repeat(70 * 1024) })
    const response = await api.write('/topics/tweets/config', { method: 'PUT', body: big })
    expect(response.status).toBe(413)
    expect(await json(response)).toEqual({
      error: 'payload_too_large',
      message: expect.stringContaining('65536'),
    })
    expect(api.configs.writes).toBe(0)
  })

  it('answers 413 for a chunked body (no Content-Length) over 64 KiB', async () => {
    const api = await startTestApi()
    const chunk = new TextEncoder().encode(`{"pathTemplate":"${'x'.repeat(80 * 1024)}"}`)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk)
        controller.close()
      },
    })
    const response = await api.write('/topics/tweets/config', {
      method: 'PUT',
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(response.status).toBe(413)
    expect(api.configs.writes).toBe(0)
  })

  it('accepts a body just under the limit', async () => {
    const { status } = await put(JSON.stringify({ pathTemplate: 'x'.repeat(60 * 1024) }))
    expect(status).toBe(200)
  })

  it('does not let "__proto__" through as a field', async () => {
    const { status, body } = await put('{"__proto__": {"paused": true}}')
    expect(status).toBe(400)
    expect(body.fields).toEqual([{ path: '__proto__', message: 'unknown field' }])
  })
})
