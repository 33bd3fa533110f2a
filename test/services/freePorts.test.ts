import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { freePorts } from '../../services/process.js'

describe('freePorts', () => {
  it('gives different ports, each free to listen on once it returns', async () => {
    const ports = await freePorts(24)
    expect(new Set(ports).size).toBe(24)
    for (const port of ports) {
      const server = net.createServer()
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', resolve)
      })
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
