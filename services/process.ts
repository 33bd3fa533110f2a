import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import net from 'node:net'

/** Root of the repository (services/ sits directly below it). */
export const repoRoot = new URL('..', import.meta.url).pathname.replace(/\/$/, '')
export const cacheDir = `${repoRoot}/.cache`

/** A free TCP port on 127.0.0.1, found by letting the OS pick one. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1)
  return port as number
}

/**
 * `count` different free TCP ports on 127.0.0.1. All are held open until the last is found: one
 * after the other, the OS may hand out a port it just handed out and that was closed again (a
 * broker got the same port for two listeners that way, and refused to start).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = []
  try {
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const server = net.createServer()
      server.unref()
      servers.push(server)
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject)
          server.listen(0, '127.0.0.1', () => {
            const address = server.address()
            resolve(typeof address === 'object' && address ? address.port : 0)
          })
        }),
      )
    }
    return ports
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  }
}

/** Resolves once a TCP connect to host:port succeeds; rejects if `child` exits first or the deadline passes. */
export async function waitForPort(
  port: number,
  what: string,
  child: ChildProcess,
  timeoutMs: number,
  logHint: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${what} exited (code ${child.exitCode}, signal ${child.signalCode}) before it opened port ${port}; see ${logHint}`,
      )
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port })
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what} did not open port ${port} within ${timeoutMs} ms; see ${logHint}`)
}

/** Spawns a long-running service with its output appended to a log file. */
export function spawnService(
  command: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' })
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  child.once('exit', () => log.end())
  return child
}

/** Runs a command to completion; rejects with its output when it fails. */
export async function runToEnd(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code === 0) resolve(output)
      else reject(new Error(`${command} ${args.join(' ')} failed with code ${code}:\n${output}`))
    })
  })
}

/** Sends `signal` and resolves when the child has exited; escalates to SIGKILL after `graceMs`. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
