// The last lines of defence end the node rather than let a second instance overlap.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { describe, expect, inject, it } from 'vitest'
import { uniqueName } from '../helpers/names.js'

const script = new URL('./harness/misbehaving-node.ts', import.meta.url).pathname

async function runMisbehaving(mode: string, afterRunning: (child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      KDP_MISBEHAVE: mode,
      KDP_BROKERS: inject('kafkaBrokers'),
      KDP_TOPIC: uniqueName('tech'),
      KDP_GROUP: uniqueName('g'),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'running') afterRunning(child)
  })
  return exited
}

describe('a node ends itself when a process would outlive its slice', () => {
  it('exits with code 70 when a process ignores its abort for longer than maxStopMs', async () => {
    const outcome = await runMisbehaving('ignore-abort', (child) => child.stdin!.write('stop\n'))
    expect(outcome).toEqual({ code: 70, signal: null })
  })

  it('is SIGKILLed by its stall guard when a process blocks the event loop past the lease', async () => {
    const outcome = await runMisbehaving('block-loop', () => {})
    expect(outcome).toEqual({ code: null, signal: 'SIGKILL' })
  })
})
