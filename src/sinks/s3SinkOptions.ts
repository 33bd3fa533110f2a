import type { S3ClientConfig } from '@aws-sdk/client-s3'
import * as t from 'io-ts'
import { decodeOrThrow, ValidationError } from '../util/decode.js'
import type { Logger } from '../util/logging.js'

const MiB = 1024 * 1024

/** S3's smallest part (every part but the last) and the library's default. */
export const minPartSize = 5 * MiB
export const defaultPartSize = 8 * MiB

/** Static keys or a provider (the SDK's types). */
export type S3Credentials = NonNullable<S3ClientConfig['credentials']>

export interface S3SinkOptions {
  /** Endpoint override (`http(s)://host:port`) for S3-compatible services or emulators. */
  readonly endpoint?: string
  /** Default: the SDK's resolution (`AWS_REGION`, the shared config file). */
  readonly region?: string
  /** Path-style addressing (`endpoint/bucket/key`); most emulators need it. Default false. */
  readonly forcePathStyle?: boolean
  /** Default: the SDK's default provider chain (environment, profile, SSO, container, instance). */
  readonly credentials?: S3Credentials
  /** Server-side encryption of every object written. Default: none requested (the bucket's default). */
  readonly serverSideEncryption?: 'AES256' | 'aws:kms'
  /** KMS key for `aws:kms`; default: the account's AWS-managed key. */
  readonly sseKmsKeyId?: string
  /** Storage class of every object (`STANDARD_IA`, `GLACIER_IR`...). Default: the bucket's (STANDARD). */
  readonly storageClass?: S3StorageClass
  /** Checksum S3 verifies on arrival and keeps with the object. Default CRC32 (the SDK's). */
  readonly checksumAlgorithm?: S3ChecksumAlgorithm
  /**
   * Also store the archiver's attributes (first and last offset, record count) as object tags, for
   * lifecycle rules and inventory reports. Needs `s3:PutObjectTagging` besides `s3:PutObject`, and
   * S3 bills tags: off by default (the same attributes are always stored as user metadata).
   */
  readonly objectTags?: boolean
  /**
   * Puts at once (node-wide for this sink), the most the adaptive limit goes up to: each 503 SlowDown
   * halves it, successes raise it again. Default 16.
   */
  readonly maxConcurrentPuts?: number
  /** Bodies larger than this go multipart in parts of this size. Default 8 MiB, at least 5 MiB. */
  readonly partSize?: number
  /** Parts uploaded at once (memory: up to queueSize × partSize per put). Default 4. */
  readonly queueSize?: number
  /** Time allowed to open a TCP connection. Default 5 000 ms. */
  readonly connectionTimeoutMs?: number
  /** Time allowed for one HTTP request, body included. Default 60 000 ms. */
  readonly requestTimeoutMs?: number
  /** Attempts of one request by the SDK (its own retries with backoff). Default 3. */
  readonly maxAttempts?: number
  readonly logger?: Logger
}

const intIn = (min: number, max: number, name: string) =>
  t.refinement(t.number, (n) => Number.isInteger(n) && n >= min && n <= max, name)

/** An `http(s)://host[:port]` URL. */
export const endpointUrl = t.refinement(
  t.string,
  (s) => {
    try {
      const url = new URL(s)
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
    } catch {
      return false
    }
  },
  'HttpUrl(http(s)://host[:port])',
)

/** A region name: non-empty, no whitespace. */
export const regionName = t.refinement(t.string, (s) => /^[A-Za-z0-9_-]{1,64}$/.test(s), 'RegionName')

export const serverSideEncryption = t.keyof({ AES256: null, 'aws:kms': null })

/** The storage classes an archive may use (S3's names). */
export const storageClass = t.keyof({
  STANDARD: null,
  STANDARD_IA: null,
  ONEZONE_IA: null,
  INTELLIGENT_TIERING: null,
  GLACIER_IR: null,
  GLACIER: null,
  DEEP_ARCHIVE: null,
  REDUCED_REDUNDANCY: null,
})
export type S3StorageClass = t.TypeOf<typeof storageClass>

/** The checksums S3 computes and verifies on arrival. */
export const checksumAlgorithm = t.keyof({
  CRC32: null,
  CRC32C: null,
  CRC64NVME: null,
  SHA1: null,
  SHA256: null,
})
export type S3ChecksumAlgorithm = t.TypeOf<typeof checksumAlgorithm>

// The options that are plain values; credentials and logger are objects checked by their types.
const S3SinkOptionValues = t.partial({
  endpoint: endpointUrl,
  region: regionName,
  forcePathStyle: t.boolean,
  serverSideEncryption,
  sseKmsKeyId: t.refinement(t.string, (s) => s.trim() !== '', 'NonEmptyString'),
  storageClass,
  checksumAlgorithm,
  objectTags: t.boolean,
  maxConcurrentPuts: intIn(1, 256, 'MaxConcurrentPuts(1..256)'),
  partSize: intIn(minPartSize, 5 * 1024 * MiB, 'PartSize(5 MiB..5 GiB)'),
  queueSize: intIn(1, 64, 'QueueSize(1..64)'),
  connectionTimeoutMs: intIn(1, 600_000, 'TimeoutMs(1..600000)'),
  requestTimeoutMs: intIn(1, 3_600_000, 'TimeoutMs(1..3600000)'),
  maxAttempts: intIn(1, 20, 'MaxAttempts(1..20)'),
})

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** Checks the options; throws one ValidationError naming every bad field. */
export function validateS3SinkOptions(options: S3SinkOptions): void {
  const values = definedOnly({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    serverSideEncryption: options.serverSideEncryption,
    sseKmsKeyId: options.sseKmsKeyId,
    storageClass: options.storageClass,
    checksumAlgorithm: options.checksumAlgorithm,
    objectTags: options.objectTags,
    maxConcurrentPuts: options.maxConcurrentPuts,
    partSize: options.partSize,
    queueSize: options.queueSize,
    connectionTimeoutMs: options.connectionTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    maxAttempts: options.maxAttempts,
  })
  let errors: ValidationError['errors'] = []
  try {
    decodeOrThrow(S3SinkOptionValues, values, 'S3 sink options')
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    errors = error.errors
  }
  if (options.sseKmsKeyId !== undefined && options.serverSideEncryption !== 'aws:kms')
    errors = [...errors, { path: 'sseKmsKeyId', message: "needs serverSideEncryption 'aws:kms'" }]
  if (errors.length > 0) throw new ValidationError('S3 sink options', errors)
}

/** The endpoint without user info, path or query: safe to log. */
export function loggableEndpoint(endpoint: string | undefined): string | undefined {
  if (endpoint === undefined) return undefined
  try {
    return new URL(endpoint).origin
  } catch {
    return '(unparsable)'
  }
}
