import type { LogFields, Logger } from '../../src/util/logging.js'

export interface CapturedLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly message: string
  readonly fields: LogFields
}

/** A Logger that keeps every line (children included) for assertions. */
export function capturingLogger(
  lines: CapturedLine[] = [],
  bindings: LogFields = {},
): Logger & { lines: CapturedLine[] } {
  const at =
    (level: CapturedLine['level']) =>
    (message: string, fields: LogFields = {}): void =>
      void lines.push({ level, message, fields: { ...bindings, ...fields } })
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => capturingLogger(lines, { ...bindings, ...more }),
  }
}
