import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * An HTTP proxy in front of moto that throttles like S3: a request that would make more than `cap`
 * requests in flight is answered 503 SlowDown (S3's XML body) without reaching moto. Counts both.
 */
export async function startThrottlingProxy(target: string, cap: number) {
  const targetUrl = new URL(target)
  let inFlight = 0
  const counts = { forwarded: 0, throttled: 0, maxInFlight: 0 }
  const server = http.createServer((request, response) => {
    if (inFlight >= cap) {
      counts.throttled++
      request.resume()
      response.writeHead(503, { 'content-type': 'application/xml' })
      response.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      )
      return
    }
    inFlight++
    counts.forwarded++
    counts.maxInFlight = Math.max(counts.maxInFlight, inFlight)
    let done = false
    const finish = (): void => {
      if (!done) inFlight--
      done = true
    }
    const upstream = http.request(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
        answer.on('end', finish)
      },
    )
    upstream.on('error', () => {
      finish()
      response.destroy()
    })
    response.on('close', finish)
    request.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
