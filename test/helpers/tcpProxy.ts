import net from 'node:net'

/** A loopback TCP proxy that can be cut (an outage) and restored on the same port. */
export interface TcpProxy {
  readonly port: number
  /** Closes the listener and every open connection: the target looks unreachable. */
  cut(): Promise<void>
  /** Listens again on the same port. */
  restore(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  const make = (): net.Server =>
    net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: targetPort })
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        s.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream)
      upstream.pipe(client)
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
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return {
    port,
    cut,
    async restore() {
      server = make()
      await listen(port)
    },
    async close() {
      if (server.listening) await cut()
    },
  }
}
