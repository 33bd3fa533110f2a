import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { sendError } from './errors.js'

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

const bearer = /^Bearer +(\S+) *$/i

/**
 * An `onRequest` hook for write routes: `Authorization: Bearer <token>`. It runs before the body is
 * read, so an unauthenticated client learns nothing about body validation. Both sides are hashed
 * first, so that the comparison takes the same time whatever the length or content of the guess.
 * Without a configured token (undefined or empty) every write is refused.
 */
export function writeGuard(token: string | undefined) {
  const expected = token === undefined || token === '' ? undefined : digest(token)
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (expected === undefined) {
      return sendError(reply, 403, {
        error: 'forbidden',
        message: 'writes are disabled until an API token is configured on this node',
      })
    }
    const header = request.headers.authorization
    const match = typeof header === 'string' ? bearer.exec(header) : null
    if (match?.[1] === undefined) {
      reply.header('www-authenticate', 'Bearer realm="kdp"')
      return sendError(reply, 401, {
        error: 'unauthorized',
        message: 'this request needs an "Authorization: Bearer <token>" header',
      })
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      return sendError(reply, 403, { error: 'forbidden', message: 'the token is not valid' })
    }
    return undefined
  }
}
