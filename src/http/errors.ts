import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import * as t from 'io-ts'
import { described } from '../util/codecs.js'
import { FieldError } from '../util/decode.js'
import type { Logger } from '../util/logging.js'

/** Machine-readable error codes; every error response is `{ error, message, fields? }`. */
export const ErrorCode = t.keyof({
  invalid_topic: null,
  invalid_body: null,
  bad_request: null,
  unauthorized: null,
  forbidden: null,
  not_found: null,
  payload_too_large: null,
  unavailable: null,
  internal_error: null,
})
export type ErrorCode = t.TypeOf<typeof ErrorCode>

/** The body of every error response. */
export const ApiError = described(
  t.readonly(
    t.intersection([
      t.type({ error: ErrorCode, message: described(t.string, 'For people; may change.') }),
      t.partial({
        fields: described(
          t.readonlyArray(FieldError),
          'Every bad field (`invalid_topic`, `invalid_body`); `topic` is the topic name in the URL.',
        ),
      }),
    ]),
  ),
  'Every error answers this.',
)
export type ApiError = t.TypeOf<typeof ApiError>

export function sendError(reply: FastifyReply, status: number, body: ApiError): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(body)
}

/** The path of a request without its query string (what we log; a query may carry anything). */
export function pathOf(request: FastifyRequest): string {
  const index = request.url.indexOf('?')
  return index < 0 ? request.url : request.url.slice(0, index)
}

/**
 * Turns whatever a route or fastify itself threw into a JSON error. Client errors keep fastify's
 * message (they describe the request, never the server); anything else is logged and answered with a
 * generic 500, so stack traces and internal messages never reach the client.
 */
export function errorHandler(logger: Logger, bodyLimit: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500
    if (status === 413) {
      return sendError(reply, 413, {
        error: 'payload_too_large',
        message: `the request body exceeds the limit of ${bodyLimit} bytes`,
      })
    }
    if (status === 415 || (status === 400 && error.code?.startsWith('FST_ERR_CTP_'))) {
      return sendError(reply, 400, { error: 'invalid_body', message: error.message, fields: [] })
    }
    if (status >= 400 && status < 500) {
      return sendError(reply, status, { error: 'bad_request', message: error.message })
    }
    logger.error('http request failed', {
      method: request.method,
      path: pathOf(request),
      error: error.message,
      stack: error.stack,
    })
    return sendError(reply, 500, { error: 'internal_error', message: 'internal error; see the node logs' })
  }
}
