import type { FastifyInstance, FastifyRequest } from 'fastify'

/** A body error fastify turns into a 400 (see errors.ts: `FST_ERR_CTP_` codes become `invalid_body`). */
class BodyError extends Error {
  readonly statusCode = 400
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const jsonTypes = /^application\/(?:[\w.+-]+\+)?json$/

/**
 * Bodies are JSON or nothing. An empty body parses to undefined whatever its type (so `POST /pause`
 * with `Content-Type: application/json` and no body is fine); malformed JSON and non-JSON content
 * types answer 400. Fastify applies `bodyLimit` (413) while reading.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    '*',
    { parseAs: 'string' },
    (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      const text = typeof body === 'string' ? body : body.toString('utf8')
      if (text.trim() === '') return done(null, undefined)
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
      if (!jsonTypes.test(type)) {
        return done(
          new BodyError(
            'FST_ERR_CTP_INVALID_MEDIA_TYPE',
            `the body must be JSON sent with "Content-Type: application/json" (got ${type === '' ? 'no content type' : `"${type}"`})`,
          ),
        )
      }
      try {
        done(null, JSON.parse(text))
      } catch (error) {
        done(
          new BodyError(
            'FST_ERR_CTP_INVALID_JSON_BODY',
            `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
          ),
        )
      }
    },
  )
}
