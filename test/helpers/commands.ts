// kdp's commands as child processes (`node --import tsx src/cli/main.ts`, `src/loadgen/main.ts`),
// with their output collected, for the tests of the commands.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '../../services/process.js'

/** The scripts of `kdp-archiver` and `kdp-loadgen`. */
export const archiverScript = join(repoRoot, 'src', 'cli', 'main.ts')
export const loadgenScript = join(repoRoot, 'src', 'loadgen', 'main.ts')

/** The test's environment without any KDP_ or AWS_ variable that could change the command. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('KDP_') && !key.startsWith('AWS_')) env[key] = value
  }
  return { ...env, ...extra }
}

export interface Run {
  readonly child: ChildProcess
  stdout: string
  stderr: string
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function start(script: string, args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  }
  child.stdout?.on('data', (d: Buffer) => {
    run.stdout += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    run.stderr += d.toString()
  })
  return run
}

/** Runs to the end (killed after `timeoutMs`). */
export async function runToExit(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const began = Date.now()
  const run = start(script, args, env)
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs)
  const { code } = await run.exit
  clearTimeout(timer)
  return { code, stdout: run.stdout, stderr: run.stderr, ms: Date.now() - began }
}

export async function waitFor(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const match = pattern.exec(run.stdout)
    if (match) return match
    if (run.child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no ${pattern} in the output\nstdout: ${run.stdout}\nstderr: ${run.stderr.slice(-3000)}`)
}

/** Lines of stderr that are not Node's own warnings (the AWS SDK warns about Node 20). */
export function ownLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter(
      (line) => line.startsWith('kdp-archiver') || line.startsWith('Run ') || line.startsWith('kdp-loadgen'),
    )
}
