// A few dashboard nodes (harness/dashboard-node.ts), each its own OS process, on the suite's broker.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { repoRoot } from '../../../services/process.js'

export interface TestNode {
  readonly nodeId: string
  readonly child: ChildProcess
  readonly address: string
  /** Its output so far (for failure messages). */
  output(): string
}

const script = join(repoRoot, 'test', 'http', 'dashboard', 'harness', 'dashboard-node.ts')

export function startNode(config: {
  brokers: string[]
  cluster: string
  nodeId: string
  sinkUrl: string
  token: string
}): Promise<TestNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: { ...process.env, KDP_TEST_DASHBOARD_NODE: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${config.nodeId} did not start: ${output}`)), 120_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${config.nodeId} exited with ${code} while starting: ${output}`))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`
      if (!line.startsWith('{"ready"')) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      const { http } = JSON.parse(line) as { http: string }
      resolve({ nodeId: config.nodeId, child, address: http, output: () => output })
    })
  })
}

/** SIGTERM and wait (SIGKILL after 30 s); a node already gone is fine. */
export async function stopNode(node: TestNode): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return
  const exited = new Promise((resolve) => node.child.once('exit', resolve))
  node.child.kill('SIGTERM')
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 30_000)
  await exited
  clearTimeout(timer)
}
