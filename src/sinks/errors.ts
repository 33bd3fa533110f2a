/** What a sink was doing when it failed. */
export type SinkOperation = 'put' | 'get' | 'list' | 'open'

/**
 * A sink operation failed; `cause` holds the underlying error (file system, S3). Never carries
 * secrets. `retriable` is false when trying again cannot help (access denied, no such bucket, a
 * read-only file system): retrying it forever would only hide the problem.
 */
export class SinkError extends Error {
  readonly retriable: boolean

  constructor(
    readonly operation: SinkOperation,
    /** The sink's URL. */
    readonly sinkUrl: string,
    /** The object key, when the operation had one. */
    readonly key: string | undefined,
    reason: string,
    options?: { cause?: unknown; retriable?: boolean },
  ) {
    super(`${operation} ${key === undefined ? '' : `'${key}' `}on ${sinkUrl} failed: ${reason}`, options)
    this.name = 'SinkError'
    this.retriable = options?.retriable ?? !isPermanentCause(options?.cause)
  }
}

/** S3 error names and file-system codes after which the same request cannot succeed. */
const permanentS3Errors = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'InvalidBucketName',
  'NoSuchBucket',
  'SignatureDoesNotMatch',
  'AccountProblem',
  'InvalidObjectState',
  'KMS.DisabledException',
  'KMS.NotFoundException',
])
const permanentFsCodes = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG'])

function isPermanentCause(cause: unknown): boolean {
  if (!(cause instanceof Error)) return false
  const code = (cause as { code?: unknown }).code
  return permanentS3Errors.has(cause.name) || (typeof code === 'string' && permanentFsCodes.has(code))
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
