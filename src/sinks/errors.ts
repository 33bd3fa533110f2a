/** What a sink was doing when it failed. */
export type SinkOperation = 'put' | 'get' | 'list' | 'open'

/** A sink operation failed; `cause` holds the underlying error (file system, S3). Never carries secrets. */
export class SinkError extends Error {
  constructor(
    readonly operation: SinkOperation,
    /** The sink's URL. */
    readonly sinkUrl: string,
    /** The object key, when the operation had one. */
    readonly key: string | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} ${key === undefined ? '' : `'${key}' `}on ${sinkUrl} failed: ${reason}`, options)
    this.name = 'SinkError'
  }
}

/** `get` of a key that holds no object. */
export class SinkObjectNotFoundError extends SinkError {
  constructor(sinkUrl: string, key: string, options?: { cause?: unknown }) {
    super('get', sinkUrl, key, 'no such object', options)
    this.name = 'SinkObjectNotFoundError'
  }
}

/** A key or list prefix that a sink refuses (it could escape the sink's root or is ambiguous). */
export class InvalidSinkKeyError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`invalid sink key ${JSON.stringify(key)}: ${reason}`)
    this.name = 'InvalidSinkKeyError'
  }
}

/** A sink URL that is not `s3://bucket[/prefix]` or `file:///absolute/dir`. */
export class InvalidSinkUrlError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`invalid sink URL ${JSON.stringify(url)}: ${reason}`)
    this.name = 'InvalidSinkUrlError'
  }
}

/** The rejection of a `put` whose signal aborted; `cause` is the signal's reason. */
export function abortError(what: string, signal: AbortSignal): Error {
  const error = new Error(`${what} aborted`, { cause: signal.reason })
  error.name = 'AbortError'
  return error
}

/** The message of an unknown thrown value, for error texts. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : ''
    const text = error.message || (typeof code === 'string' ? code : '') || 'unknown error'
    return `${name}${text}`
  }
  return String(error)
}
