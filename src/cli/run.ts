// What both commands (`kdp-archiver`, `kdp-loadgen`) do around their own work: print the help or
// the version, exit 2 on a bad command line, one line and exit 1 when they cannot start, and the
// stop signals.
import { messageOf } from '../util/errors.js'
import type { CliResult } from './command.js'
import { StartupError } from './preflight.js'
import { redactSecrets, type Secret } from './values.js'

/** The exit codes of kdp's commands (the README's table). */
export const exitCodes = {
  ok: 0,
  /** Could not start (brokers unreachable, sink unusable, port taken), or failed while running. */
  failed: 1,
  /** A bad flag, environment variable or config file. */
  usage: 2,
  /** Authentication or TLS failed: credentials or client certificate refused, certificate not trusted, no credentials to be had. */
  refused: 3,
  /** Stopped by a signal before a graceful stop was possible, or by a second signal. */
  interrupted: 130,
} as const

/** Secrets of the running command, kept out of every message `fail` writes. */
const secrets: Secret[] = []

/** Registers secrets (passwords, keys, tokens) that no failure message may show. */
export function keepSecret(...values: readonly (Secret | undefined)[]): void {
  for (const value of values) if (value !== undefined) secrets.push(value)
}

/** Writes `message` to stderr, secrets redacted, and exits with `code`. */
export function fail(message: string, code: number): never {
  process.stderr.write(`${redactSecrets(message, secrets)}\n`)
  process.exit(code)
}

/** Prints the help or the version (exit 0), fails with exit 2 on an error, else runs the command. */
export async function runCli<O>(result: CliResult<O>, run: (options: O) => Promise<void>): Promise<void> {
  switch (result.kind) {
    case 'help':
    case 'version':
    case 'config':
      process.stdout.write(result.text)
      return
    case 'error':
      fail(result.message, exitCodes.usage)
      break
    case 'run':
      await run(result.options)
  }
}

/** The line a command prints when it cannot start: a StartupError says it all, anything else is summed up. */
export function startupProblem(error: unknown): string {
  if (error instanceof StartupError) return error.message
  return `could not start: ${messageOf(error).split('\n')[0]}`
}

/** The exit code of a startup failure: 3 when the brokers refused us, else 1. */
export function startupExitCode(error: unknown): number {
  return error instanceof StartupError ? error.exitCode : exitCodes.failed
}

export interface StopSignalHandlers {
  /** Whether a graceful stop is possible yet (something was started that must be ended). */
  readonly canStop: () => boolean
  /** Starts the graceful stop; it exits the process itself when done. */
  readonly stop: () => void
  /** Runs right before an immediate exit (erase the progress line). */
  readonly beforeExit?: () => void
}

/**
 * SIGINT and SIGTERM: the first one starts a graceful stop once `canStop()`; before that, and on a
 * second signal, the process exits at once with 130. Returns whether a stop was requested.
 */
export function onStopSignals(handlers: StopSignalHandlers): () => boolean {
  let requested = false
  const onSignal = (): void => {
    if (requested || !handlers.canStop()) {
      handlers.beforeExit?.()
      process.exit(exitCodes.interrupted)
    }
    requested = true
    handlers.stop()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => requested
}
