/**
 * Whether trying the same thing again can succeed. kdp's own errors carry a `retriable` flag (as
 * kafkajs's do); anything else (a reset connection, a timeout) is taken as transient.
 */
export function isRetriable(error: unknown): boolean {
  const flag = (error as { retriable?: unknown } | null)?.retriable
  return typeof flag === 'boolean' ? flag : true
}

/** The message of an unknown thrown value, for error texts: `Name: message` unless the name is plain `Error`. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : ''
    const text = error.message || (typeof code === 'string' ? code : '') || 'unknown error'
    return `${name}${text}`
  }
  return String(error)
}
