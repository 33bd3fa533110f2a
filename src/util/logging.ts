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

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

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
 * JSON lines on stderr (or `destination`), one object per event, secrets redacted.
 * `KDP_LOG_LEVEL` overrides the default level.
 */
export function createLogger(
  options: { level?: LogLevel; name?: string; destination?: number } = {},
): Logger {
  const level = options.level ?? (process.env.KDP_LOG_LEVEL as LogLevel | undefined) ?? 'info'
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
