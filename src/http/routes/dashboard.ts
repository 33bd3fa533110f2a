import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Logger } from '../../util/logging.js'
import { sendError } from '../errors.js'

/**
 * The dashboard page: plain HTML, CSS and JavaScript modules from `src/http/dashboard/` (copied next
 * to the compiled code by `npm run build`), and uPlot's own dist files, resolved from node_modules
 * like any dependency: nothing is fetched from the internet, and users build nothing.
 */

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
}

/** The page may talk to other nodes (failover), and loads nothing from anywhere else. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  'connect-src http: https:',
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ')

const dashboardDir = fileURLToPath(new URL('../dashboard/', import.meta.url))
const require = createRequire(import.meta.url)

/** The files the page is made of: `/dashboard/<name>` → where it is on disk. */
function assetFiles(): Map<string, string> {
  const files = new Map<string, string>()
  // Every page file of the folder: plain names only, so no request can reach outside it.
  let names: string[] = []
  try {
    names = readdirSync(dashboardDir).filter((name) => /^[a-z]+\.(?:html|js|css)$/.test(name))
  } catch {
    // Not installed with the package: the routes answer 404, and the API works on.
  }
  for (const name of names) files.set(name, `${dashboardDir}${name}`)
  files.set('vendor/uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js'))
  files.set('vendor/uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'))
  return files
}

export function registerDashboardRoutes(app: FastifyInstance, options: { logger: Logger }): void {
  const files = assetFiles()
  // Read once, on first use: a few hundred KiB that every page load needs.
  const cache = new Map<string, Buffer>()
  const serve = (reply: FastifyReply, name: string): FastifyReply => {
    const path = files.get(name)
    if (path === undefined)
      return sendError(reply, 404, { error: 'not_found', message: `no dashboard file ${name}` })
    let body = cache.get(name)
    if (!body) {
      try {
        body = readFileSync(path)
      } catch (error) {
        options.logger.error('a dashboard file is missing from the installed package', {
          file: path,
          error: String(error),
        })
        return sendError(reply, 500, {
          error: 'internal_error',
          message: 'the dashboard is not installed properly',
        })
      }
      cache.set(name, body)
    }
    const extension = name.slice(name.lastIndexOf('.') + 1)
    reply.type(types[extension] ?? 'application/octet-stream')
    if (extension === 'html') {
      reply.header('content-security-policy', contentSecurityPolicy)
      reply.header('referrer-policy', 'no-referrer')
    }
    return reply.send(body)
  }

  app.get('/', async (_request, reply) => serve(reply, 'index.html'))
  app.get('/dashboard', async (_request, reply) => serve(reply, 'index.html'))
  app.get<{ Params: { '*': string } }>('/dashboard/*', async (request, reply) =>
    serve(reply, request.params['*']),
  )
}
