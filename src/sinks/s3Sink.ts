import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { messageOf } from '../util/errors.js'
import { type Logger, silentLogger } from '../util/logging.js'
import { AdaptiveLimit } from './adaptiveLimit.js'
import { abortError, SinkError, SinkObjectNotFoundError } from './errors.js'
import { assertValidKey, assertValidPrefix, sortKeys } from './keys.js'
import { bucketNameProblem, formatS3Url } from './location.js'
import {
  defaultPartSize,
  loggableEndpoint,
  type S3SinkOptions,
  validateS3SinkOptions,
} from './s3SinkOptions.js'
import type { CreateOutcome, ExistingObject, ObjectMetadata, Sink } from './sink.js'

/** S3's answer to a conditional write whose condition failed: the key is taken (412). */
function isPreconditionFailed(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'PreconditionFailed' ||
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412)
  )
}

/** Throttling: 503 SlowDown (also 'Throttling', 'RequestLimitExceeded' from S3-compatible stores). */
export function isThrottle(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
  return (
    error.name === 'SlowDown' ||
    error.name === 'Throttling' ||
    error.name === 'ThrottlingException' ||
    error.name === 'RequestLimitExceeded' ||
    status === 503
  )
}

/**
 * A sink in an S3 bucket under a prefix (`s3://bucket/prefix`).
 *
 * - Atomic replace: S3 makes an object visible only once its PUT (or CompleteMultipartUpload)
 *   succeeded, and replaces an existing key whole; readers see the old or the new object.
 * - Create without replace: `create` sends `If-None-Match: *` on PutObject and on
 *   CompleteMultipartUpload; S3 answers 412 when the key exists, and the existing object's user
 *   metadata is read back (HeadObject) for the caller to compare.
 * - Durability: `put` resolves after S3 acknowledged the object (S3 stores it redundantly before it
 *   answers). Bodies above `partSize` go multipart through `@aws-sdk/lib-storage`; a failed or
 *   aborted multipart upload is aborted on S3 so that no parts linger.
 * - Failures: connection and request timeouts bound every request and the SDK retries each
 *   `maxAttempts` times (adaptive retry mode: it also slows its own request rate when throttled), so
 *   an unreachable S3 makes `put` reject (never hang); the caller retries the whole put. Aborting
 *   the signal rejects at once with an AbortError; a final request that had already reached S3 may
 *   still take effect (as with any abandoned write).
 * - Throttling: at most `maxConcurrentPuts` puts at once, an adaptive limit that halves at each
 *   503 SlowDown (every attempt counts, the SDK's own retries too) and grows back with successes.
 * - Credentials are never logged; `url` and error messages hold only the bucket and keys.
 */
export class S3Sink implements Sink {
  readonly url: string
  readonly bucket: string
  /** No leading or trailing `/`; may be empty. */
  readonly prefix: string
  /** The puts allowed at once now (see `maxConcurrentPuts`); read by metrics and tests. */
  readonly concurrency: AdaptiveLimit
  private readonly client: S3Client
  private readonly partSize: number
  private readonly queueSize: number
  private readonly objectParams: Pick<
    PutObjectCommandInput,
    'ServerSideEncryption' | 'SSEKMSKeyId' | 'StorageClass' | 'ChecksumAlgorithm'
  >
  private readonly objectTags: boolean
  private readonly logger: Logger

  constructor(location: { bucket: string; prefix?: string }, options: S3SinkOptions = {}) {
    const bucketProblem = bucketNameProblem(location.bucket)
    if (bucketProblem) throw new Error(`invalid S3 bucket name "${location.bucket}": ${bucketProblem}`)
    const prefix = (location.prefix ?? '').replace(/^\/+|\/+$/g, '')
    if (prefix !== '') assertValidKey(prefix)
    validateS3SinkOptions(options)
    this.bucket = location.bucket
    this.prefix = prefix
    this.url = formatS3Url(this.bucket, this.prefix)
    this.partSize = options.partSize ?? defaultPartSize
    this.queueSize = options.queueSize ?? 4
    this.objectParams = {
      ...(options.serverSideEncryption === undefined
        ? {}
        : options.serverSideEncryption === 'aws:kms' && options.sseKmsKeyId !== undefined
          ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: options.sseKmsKeyId }
          : { ServerSideEncryption: options.serverSideEncryption }),
      ...(options.storageClass !== undefined && { StorageClass: options.storageClass }),
      ...(options.checksumAlgorithm !== undefined && { ChecksumAlgorithm: options.checksumAlgorithm }),
    }
    this.objectTags = options.objectTags ?? false
    this.concurrency = new AdaptiveLimit(options.maxConcurrentPuts ?? 16)
    this.logger = (options.logger ?? silentLogger).child({ sink: this.url })
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: options.credentials,
      maxAttempts: options.maxAttempts ?? 3,
      // Adaptive: the SDK's retries also slow the client's request rate after throttling answers.
      retryMode: 'adaptive',
      followRegionRedirects: true,
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? 5_000,
        requestTimeout: options.requestTimeoutMs ?? 60_000,
        // Without it a request timeout is only a logged warning and the request may hang.
        throwOnRequestTimeout: true,
      },
    })
    // Every attempt's throttling answer (inside the SDK's retry loop) lowers the limit of puts at once.
    this.client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args)
        } catch (error) {
          if (isThrottle(error)) this.concurrency.throttled()
          throw error
        }
      },
      { step: 'deserialize', name: 'kdpThrottleObserver' },
    )
    this.logger.debug('S3 sink opened', {
      endpoint: loggableEndpoint(options.endpoint) ?? 'default',
      region: options.region ?? 'default',
      forcePathStyle: options.forcePathStyle ?? false,
      serverSideEncryption: options.serverSideEncryption ?? 'none',
      storageClass: options.storageClass ?? 'default',
      partSize: this.partSize,
    })
  }

  /** The S3 object key of a sink key: `<prefix>/<key>`. */
  objectKey(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}/${key}`
  }

  async put(key: string, body: Buffer, metadata: ObjectMetadata, signal?: AbortSignal): Promise<void> {
    await this.#store(key, body, metadata, signal, false)
  }

  async create(
    key: string,
    body: Buffer,
    metadata: ObjectMetadata,
    signal?: AbortSignal,
  ): Promise<CreateOutcome> {
    const created = await this.#store(key, body, metadata, signal, true)
    if (created) return { created: true }
    return { created: false, existing: await this.#existing(key) }
  }

  /** Stores the object; false when `onlyIfAbsent` and S3 answered 412 (the key is taken). */
  async #store(
    key: string,
    body: Buffer,
    metadata: ObjectMetadata,
    signal: AbortSignal | undefined,
    onlyIfAbsent: boolean,
  ): Promise<boolean> {
    assertValidKey(key)
    const what = `put '${key}' on ${this.url}`
    if (signal?.aborted) throw abortError(what, signal)
    const attributes = metadata.attributes ?? {}
    const params: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: this.objectKey(key),
      Body: body,
      ContentType: metadata.contentType,
      ContentEncoding: metadata.contentEncoding,
      ...this.objectParams,
      ...(Object.keys(attributes).length > 0 && { Metadata: { ...attributes } }),
      ...(this.objectTags &&
        Object.keys(attributes).length > 0 && { Tagging: new URLSearchParams(attributes).toString() }),
      // lib-storage passes the params on to CompleteMultipartUpload, so large bodies are conditional too.
      ...(onlyIfAbsent && { IfNoneMatch: '*' }),
    }
    const multipart = body.length > this.partSize
    try {
      await this.concurrency.run(async () => {
        if (signal?.aborted) throw abortError(what, signal)
        if (!multipart) {
          // One request: the signal cancels it for real.
          await this.client.send(new PutObjectCommand(params), { abortSignal: signal })
          return
        }
        const controller = new AbortController()
        const onAbort = (): void => controller.abort()
        signal?.addEventListener('abort', onAbort, { once: true })
        try {
          const upload = new Upload({
            client: this.client,
            params,
            partSize: this.partSize,
            queueSize: this.queueSize,
            abortController: controller,
          })
          await upload.done()
        } finally {
          signal?.removeEventListener('abort', onAbort)
        }
      }, isThrottle)
    } catch (error) {
      if (signal?.aborted) throw abortError(what, signal)
      if (onlyIfAbsent && isPreconditionFailed(error)) {
        this.logger.debug('object exists; not replaced', { key })
        return false
      }
      throw new SinkError('put', this.url, key, messageOf(error), { cause: error })
    }
    this.logger.debug('object stored', { key, bytes: body.length, multipart })
    return true
  }

  async #existing(key: string): Promise<ExistingObject> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      )
      return { attributes: { ...head.Metadata }, read: () => this.get(key) }
    } catch (error) {
      throw new SinkError('get', this.url, key, `the object exists but cannot be read: ${messageOf(error)}`, {
        cause: error,
      })
    }
  }

  async list(prefix = ''): Promise<string[]> {
    assertValidPrefix(prefix)
    const base = this.prefix === '' ? '' : `${this.prefix}/`
    const keys: string[] = []
    let continuationToken: string | undefined
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: base + prefix,
            ContinuationToken: continuationToken,
          }),
        )
        for (const object of page.Contents ?? []) {
          const key = object.Key?.slice(base.length)
          // Folder markers (`a/`) made by consoles are not objects a sink writes.
          if (key && !key.endsWith('/')) keys.push(key)
        }
        continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (continuationToken)
    } catch (error) {
      throw new SinkError('list', this.url, undefined, messageOf(error), { cause: error })
    }
    return sortKeys(keys)
  }

  async get(key: string): Promise<Buffer> {
    assertValidKey(key)
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      )
      if (!object.Body) throw new Error('the response has no body')
      return Buffer.from(await object.Body.transformToByteArray())
    } catch (error) {
      if (error instanceof Error && error.name === 'NoSuchKey')
        throw new SinkObjectNotFoundError(this.url, key, { cause: error })
      throw new SinkError('get', this.url, key, messageOf(error), { cause: error })
    }
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}
