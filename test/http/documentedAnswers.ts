import { newAjv } from '../helpers/ajv.js'

type Doc = { readonly [key: string]: unknown }

function isDoc(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** One JSON pointer segment, escaped for a pointer and then for a URI fragment. */
const segment = (key: string) => encodeURIComponent(key.replaceAll('~', '~0').replaceAll('/', '~1'))

/** One answer of the server: what was asked (an operation of the document) and what came back. */
export interface Answer {
  /** The path as the document writes it: `/topics/{topic}/config`. */
  readonly path: string
  readonly method: string
  readonly status: number
  readonly contentType: string | null
  readonly body: string
}

/**
 * Checks answers against an OpenAPI document with an independent JSON Schema validator: the status
 * must be listed for that operation (no `default` fallback: every status the server gives is written
 * down), a body must be JSON of the listed schema, and a response without content must be empty.
 */
export function answerChecker(document: unknown): (answer: Answer) => string[] {
  if (!isDoc(document)) throw new Error('the document is not a JSON object')
  const ajv = newAjv()
  // The document is not itself a schema: its top-level keys are words the validator must skip.
  ajv.addVocabulary(Object.keys(document))
  ajv.addSchema(document, 'openapi.json')

  const compiled = new Map<string, ReturnType<typeof ajv.compile>>()
  const validator = (ref: string) => {
    let validate = compiled.get(ref)
    if (!validate) {
      validate = ajv.compile({ $ref: ref })
      compiled.set(ref, validate)
    }
    return validate
  }

  const at = (pointer: string[]): unknown => {
    let node: unknown = document
    for (const key of pointer) node = isDoc(node) ? node[key] : undefined
    return node
  }

  return (answer) => {
    const where = `${answer.method.toUpperCase()} ${answer.path} ${answer.status}`
    let pointer = ['paths', answer.path, answer.method, 'responses', String(answer.status)]
    let response = at(pointer)
    if (isDoc(response) && typeof response.$ref === 'string') {
      pointer = response.$ref.replace(/^#\//, '').split('/')
      response = at(pointer)
    }
    if (!isDoc(response)) return [`${where}: the document lists no such response`]
    const content = isDoc(response.content) ? response.content : undefined
    if (content === undefined) return answer.body === '' ? [] : [`${where}: a body where none is documented`]
    const media = answer.contentType?.split(';')[0]?.trim()
    if (!isDoc(content['application/json'])) {
      // Not JSON: the media type must be the documented one; a stream's events must match theirs.
      if (media === undefined || !isDoc(content[media]))
        return [
          `${where}: answered ${answer.contentType ?? 'no content type'}, documented ${Object.keys(content).join(', ')}`,
        ]
      if (answer.body === '') return [`${where}: an empty ${media} body`]
      return media === 'text/event-stream' ? checkEvents(where, pointer, content[media], answer.body) : []
    }
    let body: unknown
    try {
      body = JSON.parse(answer.body)
    } catch {
      return [`${where}: the body is not JSON`]
    }
    const schemaPointer = [...pointer, 'content', 'application/json', 'schema'].map(segment).join('/')
    return problems(where, validator(`openapi.json#/${schemaPointer}`), body)
  }

  function problems(where: string, validate: ReturnType<typeof validator>, value: unknown): string[] {
    if (validate(value)) return []
    return (validate.errors ?? []).map(
      (e) => `${where}: ${e.instancePath || '(body)'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
    )
  }

  /** Every complete event of a server-sent stream against the schema its name has in `x-sse-events`. */
  function checkEvents(where: string, pointer: string[], media: Doc, body: string): string[] {
    const schemas = isDoc(media['x-sse-events']) ? media['x-sse-events'] : {}
    const found: string[] = []
    let checked = 0
    for (const frame of body.split('\n\n').slice(0, -1)) {
      const lines = frame.split('\n')
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7)
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n')
      if (event === undefined) continue
      if (!isDoc(schemas[event])) {
        found.push(`${where}: event "${event}" is not documented`)
        continue
      }
      let value: unknown
      try {
        value = JSON.parse(data)
      } catch {
        found.push(`${where}: the data of event "${event}" is not JSON`)
        continue
      }
      checked++
      const eventPointer = [...pointer, 'content', 'text/event-stream', 'x-sse-events', event]
      found.push(
        ...problems(
          `${where} ${event}`,
          validator(`openapi.json#/${eventPointer.map(segment).join('/')}`),
          value,
        ),
      )
    }
    return checked === 0 ? [...found, `${where}: no event in the stream`] : found
  }
}
