import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cacheDir, freePort, spawnService, stopChild, waitForPort } from './process.js'

const motoServer = join(cacheDir, 'venv', 'bin', 'moto_server')

/** A moto server (S3, Auto Scaling, EC2) on loopback. */
export interface Moto {
  /** `http://127.0.0.1:PORT`: the endpoint override for every AWS SDK client. */
  readonly endpoint: string
  /** Forgets every bucket, group and object (moto's reset API). */
  reset(): Promise<void>
  stop(): Promise<void>
}

/** Throws a message naming what to run when the moto virtual environment is missing. */
export function assertMotoInstalled(): void {
  if (!existsSync(motoServer)) {
    throw new Error(
      `moto is missing (${motoServer}). Run 'npm run services:install' (needs Python 3.10+ with venv).`,
    )
  }
}

export async function startMoto(): Promise<Moto> {
  assertMotoInstalled()
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'kdp-moto-'))
  const logFile = join(dir, 'moto.log')
  const child = spawnService(motoServer, ['-H', '127.0.0.1', '-p', String(port)], logFile, {
    // Multipart tests upload small parts; the real S3 minimum (5 MiB) stays the default.
    S3_UPLOAD_PART_MIN_SIZE: process.env.S3_UPLOAD_PART_MIN_SIZE ?? String(5 * 1024 * 1024),
  })
  try {
    await waitForPort(port, 'moto', child, 60_000, logFile)
  } catch (error) {
    await stopChild(child, 'SIGKILL')
    throw error
  }
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' })
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`)
    },
    async stop() {
      await stopChild(child, 'SIGTERM', 5000)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
