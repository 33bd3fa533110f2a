import net from 'node:net'

/** A loopback TCP proxy that can be cut (an outage), delayed, half-opened and restored on the same port. */
export interface TcpProxy {
  readonly port: number
  /** Where it forwards to; connections before a target is set wait for it. */
  setTarget(port: number): void
  /** Closes the listener and every open connection: the target looks unreachable. */
  cut(): Promise<void>
  /** Listens again on the same port, forwarding at once. */
  restore(): Promise<void>
  /** Holds every chunk `ms` before forwarding it, both ways (0: none). */
  delay(ms: number): void
  /**
   * Keeps every connection open but forwards nothing any more, both ways, as a peer that vanished
   * without a FIN would (requests wait for their timeout). `restore()` ends it: the silent
   * connections are closed then, as a real network would eventually do.
   */
  blackhole(): void
  close(): Promise<void>
}

/** A proxy to `targetPort` on 127.0.0.1 (or to a target set later with `setTarget`). */
export async function startTcpProxy(targetPort?: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  let target = targetPort
  let waiting: Array<() => void> = []
  let delayMs = 0
  let holed = false

  // Chunks of one direction leave in order: a chunk never overtakes one held longer before it.
  const forward = (from: net.Socket, to: net.Socket): void => {
    let lastRelease = 0
    from.on('data', (chunk: Buffer) => {
      if (holed) return
      const release = Math.max(Date.now() + delayMs, lastRelease)
      lastRelease = release
      const wait = release - Date.now()
      if (wait <= 0) to.write(chunk)
      else
        setTimeout(() => {
          if (!holed && !to.destroyed) to.write(chunk)
        }, wait)
    })
    from.on('end', () => to.end())
  }
  const connect = (client: net.Socket): void => {
    const upstream = net.connect({ host: '127.0.0.1', port: target! })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    forward(client, upstream)
    forward(upstream, client)
  }
  const make = (): net.Server =>
    net.createServer((client) => {
      client.on('error', () => client.destroy())
      if (target !== undefined) connect(client)
      else waiting.push(() => connect(client))
    })
  let server = make()
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        const address = server.address()
        resolve(typeof address === 'object' && address ? address.port : port)
      })
    })
  const port = await listen(0)
  const cut = async () => {
    for (const s of sockets) s.destroy()
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return {
    port,
    setTarget(next) {
      target = next
      for (const start of waiting) start()
      waiting = []
    },
    cut,
    async restore() {
      if (holed) {
        holed = false
        for (const s of sockets) s.destroy()
      }
      delayMs = 0
      if (!server.listening) {
        server = make()
        await listen(port)
      }
    },
    delay(ms) {
      delayMs = ms
    },
    blackhole() {
      holed = true
    },
    async close() {
      holed = false
      await cut()
    },
  }
}
