// The S3 sink settings of `kdp-archiver`: environment variables (the AWS SDK's own AWS_REGION among
// them) or the `s3` section of the config file; there are no flags for them. Credentials are not
// settings: they come from the AWS SDK's default chain.
import type * as t from 'io-ts'
import {
  checksumAlgorithm,
  endpointUrl,
  regionName,
  type S3SinkOptions,
  serverSideEncryption,
  storageClass,
} from '../sinks/s3SinkOptions.js'
import { type FlagSpec, UsageError } from './layers.js'
import { booleanFlag, fromText, optional, wholeNumber } from './values.js'

export const s3Flags: readonly FlagSpec[] = [
  {
    name: 's3-endpoint',
    cli: false,
    env: 'KDP_S3_ENDPOINT',
    file: 's3.endpoint',
    kind: 'string',
    description: 'Endpoint of an S3-compatible store.',
  },
  {
    name: 's3-region',
    cli: false,
    env: 'AWS_REGION',
    file: 's3.region',
    kind: 'string',
    description: 'Region.',
  },
  {
    name: 's3-force-path-style',
    cli: false,
    env: 'KDP_S3_FORCE_PATH_STYLE',
    file: 's3.forcePathStyle',
    kind: 'boolean',
    description: 'Path-style addressing.',
  },
  {
    name: 's3-sse',
    cli: false,
    env: 'KDP_S3_SSE',
    file: 's3.sse',
    kind: 'string',
    description: 'Server-side encryption.',
  },
  {
    name: 's3-sse-kms-key-id',
    cli: false,
    env: 'KDP_S3_SSE_KMS_KEY_ID',
    file: 's3.sseKmsKeyId',
    kind: 'string',
    description: 'KMS key of aws:kms encryption.',
  },
  {
    name: 's3-storage-class',
    cli: false,
    env: 'KDP_S3_STORAGE_CLASS',
    file: 's3.storageClass',
    kind: 'string',
    description: 'Storage class of every object (STANDARD_IA, GLACIER_IR, ...).',
  },
  {
    name: 's3-checksum',
    cli: false,
    env: 'KDP_S3_CHECKSUM',
    file: 's3.checksum',
    kind: 'string',
    description: 'Checksum S3 verifies: CRC32 (default), CRC32C, CRC64NVME, SHA1, SHA256.',
  },
  {
    name: 's3-object-tags',
    cli: false,
    env: 'KDP_S3_OBJECT_TAGS',
    file: 's3.objectTags',
    kind: 'boolean',
    description: 'Tag objects with their first and last offset and record count (needs s3:PutObjectTagging).',
  },
  {
    name: 's3-max-concurrent-puts',
    cli: false,
    env: 'KDP_S3_MAX_CONCURRENT_PUTS',
    file: 's3.maxConcurrentPuts',
    kind: 'string',
    description: 'Puts at once at the most (halved at each 503 SlowDown, grown back on success). Default 16.',
  },
]

/** A codec of a text that an io-ts refinement checks, with a readable reason. */
const checked = <A extends string>(name: string, type: t.Type<A, unknown, unknown>, expected: string) =>
  optional(fromText<A>(name, (s) => (type.is(s.trim()) ? { ok: s.trim() as A } : { reason: expected })))

export const s3Codecs = {
  's3-endpoint': checked('Endpoint', endpointUrl, 'expected an http(s)://host[:port] URL'),
  's3-region': checked('Region', regionName, 'expected a region name such as eu-west-1'),
  's3-force-path-style': optional(booleanFlag(false)),
  's3-sse': checked('ServerSideEncryption', serverSideEncryption, 'expected AES256 or aws:kms'),
  's3-sse-kms-key-id': optional(
    fromText<string>('KmsKeyId', (s) =>
      s.trim() === '' ? { reason: 'expected a key id' } : { ok: s.trim() },
    ),
  ),
  's3-storage-class': checked(
    'StorageClass',
    storageClass,
    `expected one of ${Object.keys(storageClass.keys).join(', ')}`,
  ),
  's3-checksum': checked(
    'ChecksumAlgorithm',
    checksumAlgorithm,
    `expected one of ${Object.keys(checksumAlgorithm.keys).join(', ')}`,
  ),
  's3-object-tags': optional(booleanFlag(false)),
  's3-max-concurrent-puts': optional(wholeNumber(1, 256)),
}

type S3Values = { readonly [K in keyof typeof s3Codecs]: t.TypeOf<(typeof s3Codecs)[K]> }

/** The S3 sink options of the settings; a KMS key needs `aws:kms` encryption. */
export function s3Settings(v: S3Values): S3SinkOptions {
  if (v['s3-sse-kms-key-id'] !== undefined && v['s3-sse'] !== 'aws:kms') {
    throw new UsageError([
      'KDP_S3_SSE_KMS_KEY_ID (or s3.sseKmsKeyId in the config file) is set, so KDP_S3_SSE (s3.sse) must be aws:kms',
    ])
  }
  return {
    ...(v['s3-endpoint'] !== undefined && { endpoint: v['s3-endpoint'] }),
    ...(v['s3-region'] !== undefined && { region: v['s3-region'] }),
    ...(v['s3-force-path-style'] !== undefined && { forcePathStyle: v['s3-force-path-style'] }),
    ...(v['s3-sse'] !== undefined && { serverSideEncryption: v['s3-sse'] }),
    ...(v['s3-sse-kms-key-id'] !== undefined && { sseKmsKeyId: v['s3-sse-kms-key-id'] }),
    ...(v['s3-storage-class'] !== undefined && { storageClass: v['s3-storage-class'] }),
    ...(v['s3-checksum'] !== undefined && { checksumAlgorithm: v['s3-checksum'] }),
    ...(v['s3-object-tags'] !== undefined && { objectTags: v['s3-object-tags'] }),
    ...(v['s3-max-concurrent-puts'] !== undefined && { maxConcurrentPuts: v['s3-max-concurrent-puts'] }),
  }
}
