import { describe, expect, it } from 'vitest'
import { TopicConfigFields } from '../../src/processes/state/topicConfig.js'
import { MemoryConfigStore, startTestApi } from './fakes.js'

type Doc = Record<string, unknown>

const expected: Record<string, string[]> = {
  '/health': ['get'],
  '/topics': ['get'],
  '/topics/{topic}/config': ['get', 'put', 'delete'],
  '/topics/{topic}/pause': ['post'],
  '/topics/{topic}/resume': ['post'],
  '/topics/{topic}/restart': ['post'],
  '/nodes': ['get'],
  '/processes': ['get'],
  '/openapi.json': ['get'],
}
const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'])
const writes = new Set(['put', 'post', 'delete'])

function record(value: unknown): Doc {
  expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true)
  return value as Doc
}

async function loadDocument() {
  const api = await startTestApi()
  const response = await fetch(api.url('/openapi.json'))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  return { api, doc: record(JSON.parse(await response.text())) }
}

function operations(doc: Doc): Array<{ path: string; method: string; operation: Doc }> {
  return Object.entries(record(doc.paths)).flatMap(([path, item]) =>
    Object.entries(record(item))
      .filter(([method]) => methods.has(method))
      .map(([method, operation]) => ({ path, method, operation: record(operation) })),
  )
}

function resolve(doc: Doc, ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true)
  let node: unknown = doc
  for (const part of ref.slice(2).split('/')) node = node === undefined ? undefined : record(node)[part]
  return node
}

/** A response object, following a `$ref` to components/responses. */
function responseOf(doc: Doc, value: unknown): Doc {
  const response = record(value)
  return typeof response.$ref === 'string' ? record(resolve(doc, response.$ref)) : response
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document listing every path and method the API serves', async () => {
    const { doc } = await loadDocument()
    expect(doc.openapi).toBe('3.1.0')
    expect(record(doc.info)).toMatchObject({ title: expect.any(String), version: expect.any(String) })
    const listed: Record<string, string[]> = {}
    for (const { path, method } of operations(doc)) listed[path] = [...(listed[path] ?? []), method]
    expect(Object.keys(listed).sort()).toEqual(Object.keys(expected).sort())
    for (const [path, wanted] of Object.entries(expected))
      expect(listed[path]?.sort()).toEqual([...wanted].sort())
  })

  it('gives every operation a unique operationId and a 2xx response', async () => {
    const { doc } = await loadDocument()
    const ids = operations(doc).map(({ operation }) => operation.operationId)
    expect(new Set(ids).size).toBe(ids.length)
    for (const { operation } of operations(doc)) {
      expect(Object.keys(record(operation.responses)).some((status) => status.startsWith('2'))).toBe(true)
    }
  })

  it('describes the bearer auth, required on writes only, with their 401 and 403', async () => {
    const { doc } = await loadDocument()
    const components = record(doc.components)
    expect(record(components.securitySchemes).bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })
    for (const { method, operation, path } of operations(doc)) {
      if (writes.has(method)) {
        expect(operation.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }])
        const responses = record(operation.responses)
        expect(responses['401'], `${method} ${path}`).toBeDefined()
        expect(responses['403'], `${method} ${path}`).toBeDefined()
        expect(record(responseOf(doc, responses['401']).headers)['WWW-Authenticate']).toBeDefined()
      } else {
        expect(operation.security, `${method} ${path}`).toBeUndefined()
      }
    }
  })

  it('describes the error shape and points every error response at it', async () => {
    const { doc } = await loadDocument()
    const schemas = record(record(doc.components).schemas)
    const error = record(schemas.Error)
    expect(error.required).toEqual(['error', 'message'])
    const properties = record(error.properties)
    expect(record(properties.error).enum).toEqual(
      expect.arrayContaining([
        'invalid_body',
        'invalid_topic',
        'unauthorized',
        'forbidden',
        'not_found',
        'payload_too_large',
      ]),
    )
    expect(record(properties.fields).items).toEqual({ $ref: '#/components/schemas/FieldError' })
    expect(record(schemas.FieldError).required).toEqual(['path', 'message'])
    for (const { operation } of operations(doc)) {
      for (const [status, value] of Object.entries(record(operation.responses))) {
        if (!status.startsWith('4') && !status.startsWith('5')) continue
        const content = record(record(responseOf(doc, value).content)['application/json'])
        expect(content.schema).toEqual({ $ref: '#/components/schemas/Error' })
      }
    }
    const put = record(record(record(doc.paths)['/topics/{topic}/config']).put)
    expect(Object.keys(record(put.responses))).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '413']),
    )
  })

  it('has every $ref resolve', async () => {
    const { doc } = await loadDocument()
    const refs: string[] = []
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk)
      else if (typeof value === 'object' && value !== null) {
        for (const [key, inner] of Object.entries(value)) {
          if (key === '$ref' && typeof inner === 'string') refs.push(inner)
          else walk(inner)
        }
      }
    }
    walk(doc)
    expect(refs.length).toBeGreaterThan(10)
    for (const ref of refs) expect(resolve(doc, ref), ref).toBeDefined()
  })

  it('documents exactly the config fields the server decodes', async () => {
    const { doc } = await loadDocument()
    const fields = record(record(record(doc.components).schemas).TopicConfigFields)
    expect(Object.keys(record(fields.properties)).sort()).toEqual(Object.keys(TopicConfigFields.props).sort())
    expect(fields.additionalProperties).toBe(false)
  })

  it('documents only routes that exist', async () => {
    const configs = new MemoryConfigStore()
    configs.seed('tweets')
    const api = await startTestApi({ configs })
    const { doc } = await loadDocument()
    // Deleting last, so that the other writes still find the config.
    const ordered = operations(doc).sort(
      (a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'),
    )
    for (const { path, method } of ordered) {
      const init: RequestInit =
        method === 'put' ? { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } } : {}
      const response =
        method === 'get'
          ? await fetch(api.url(path.replace('{topic}', 'tweets')))
          : await api.write(path.replace('{topic}', 'tweets'), { method: method.toUpperCase(), ...init })
      expect(response.status, `${method} ${path}`).toBeLessThan(300)
    }
  })
})
