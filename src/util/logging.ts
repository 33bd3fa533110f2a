import { pino } from 'pino'

/** Structured log fields. */
export type LogFields = Readonly<Record<string, unknown>>

/** The logger kdp writes to: structured (message plus fields), with child loggers for context. */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  child(bindings: LogFields): Logger
}

/** The levels, most verbose first. */
export const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof logLevels)[number]

/** `text` as a level (any case, spaces around ignored), or why it is not one. */
export function parseLogLevel(text: string): { ok: LogLevel } | { reason: string } {
  const level = text.trim().toLowerCase()
  const known = logLevels.find((l) => l === level)
  return known !== undefined ? { ok: known } : { reason: `expected one of ${logLevels.join(', ')}` }
}

/**
 * The level `KDP_LOG_LEVEL` names, undefined when it is unset or empty. A value that is not a level
 * throws, naming the variable: a typo must not silently log at another level.
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel | undefined {
  const text = env.KDP_LOG_LEVEL
  if (text === undefined || text.trim() === '') return undefined
  const parsed = parseLogLevel(text)
  if ('reason' in parsed)
    throw new Error(`KDP_LOG_LEVEL: ${JSON.stringify(text)} is not a log level; ${parsed.reason}`)
  return parsed.ok
}

// Field names that may carry secrets anywhere in a log line; pino replaces their values.
const redactedPaths = [
  'password',
  'token',
  'secretAccessKey',
  'sessionToken',
  'authorization',
  '*.password',
  '*.token',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.authorization',
  'sasl.password',
  '*.sasl.password',
]

function wrap(logger: pino.Logger): Logger {
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
    child: (bindings) => wrap(logger.child(bindings)),
  }
}

/**
 * JSON lines on stderr (or `destination`), one object per event, secrets redacted. The level is
 * `level`, else `KDP_LOG_LEVEL` (an unknown one throws), else `defaultLevel` (`info`).
 */
export function createLogger(
  options: { level?: LogLevel; defaultLevel?: LogLevel; name?: string; destination?: number } = {},
): Logger {
  const level = options.level ?? logLevelFromEnv() ?? options.defaultLevel ?? 'info'
  const base = pino(
    { level, name: options.name ?? 'kdp', redact: { paths: redactedPaths, censor: '[redacted]' } },
    pino.destination({ fd: options.destination ?? 2, sync: true }),
  )
  return wrap(base)
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
}
