import * as t from 'io-ts'
import { decodeOrThrow, type FieldError, ValidationError } from '../util/decode.js'
import { FileSystemSink } from './fileSystemSink.js'
import { parseSinkUrl } from './location.js'
import { S3Sink } from './s3Sink.js'
import {
  checksumAlgorithm,
  endpointUrl,
  regionName,
  type S3SinkOptions,
  serverSideEncryption,
  storageClass,
} from './s3SinkOptions.js'
import type { Sink } from './sink.js'

export { parseSinkUrl, type SinkLocation, sinkUrlProblem } from './location.js'

/** Environment variables, as in `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>

const booleanText = t.keyof({ true: null, false: null, '1': null, '0': null })

const S3Environment = t.partial({
  KDP_S3_ENDPOINT: endpointUrl,
  AWS_REGION: regionName,
  KDP_S3_FORCE_PATH_STYLE: booleanText,
  KDP_S3_SSE: serverSideEncryption,
  KDP_S3_SSE_KMS_KEY_ID: t.refinement(t.string, (s) => s.trim() !== '', 'NonEmptyString'),
  KDP_S3_STORAGE_CLASS: storageClass,
  KDP_S3_CHECKSUM: checksumAlgorithm,
  KDP_S3_OBJECT_TAGS: booleanText,
})
type S3Environment = t.TypeOf<typeof S3Environment>

const variables = Object.keys(S3Environment.props) as (keyof S3Environment)[]

/**
 * S3 sink options from environment variables: `KDP_S3_ENDPOINT` (http(s) URL), `AWS_REGION`,
 * `KDP_S3_FORCE_PATH_STYLE` (`true`/`false`/`1`/`0`), `KDP_S3_SSE` (`AES256` or `aws:kms`) and
 * `KDP_S3_SSE_KMS_KEY_ID` (with `KDP_S3_SSE=aws:kms`), `KDP_S3_STORAGE_CLASS`, `KDP_S3_CHECKSUM`
 * and `KDP_S3_OBJECT_TAGS` (`true`/`false`/`1`/`0`). Unset or empty variables are left out.
 * Throws one ValidationError whose field paths are the names of every bad variable.
 */
export function s3OptionsFromEnv(env: Environment): S3SinkOptions {
  const present: Record<string, string> = {}
  for (const name of variables) {
    const value = env[name]
    if (value !== undefined && value !== '') present[name] = value
  }
  const what = 'S3 settings from the environment'
  let decoded: S3Environment = {}
  let errors: FieldError[] = []
  try {
    decoded = decodeOrThrow(S3Environment, present, what)
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    errors = [...error.errors]
  }
  if (present.KDP_S3_SSE_KMS_KEY_ID !== undefined && present.KDP_S3_SSE !== 'aws:kms')
    errors.push({ path: 'KDP_S3_SSE_KMS_KEY_ID', message: 'is set, so KDP_S3_SSE must be aws:kms' })
  if (errors.length > 0) throw new ValidationError(what, errors)
  const options: { -readonly [K in keyof S3SinkOptions]: S3SinkOptions[K] } = {}
  if (decoded.KDP_S3_ENDPOINT !== undefined) options.endpoint = decoded.KDP_S3_ENDPOINT
  if (decoded.AWS_REGION !== undefined) options.region = decoded.AWS_REGION
  if (decoded.KDP_S3_FORCE_PATH_STYLE !== undefined)
    options.forcePathStyle =
      decoded.KDP_S3_FORCE_PATH_STYLE === 'true' || decoded.KDP_S3_FORCE_PATH_STYLE === '1'
  if (decoded.KDP_S3_SSE !== undefined) options.serverSideEncryption = decoded.KDP_S3_SSE
  if (decoded.KDP_S3_SSE_KMS_KEY_ID !== undefined) options.sseKmsKeyId = decoded.KDP_S3_SSE_KMS_KEY_ID
  if (decoded.KDP_S3_STORAGE_CLASS !== undefined) options.storageClass = decoded.KDP_S3_STORAGE_CLASS
  if (decoded.KDP_S3_CHECKSUM !== undefined) options.checksumAlgorithm = decoded.KDP_S3_CHECKSUM
  if (decoded.KDP_S3_OBJECT_TAGS !== undefined)
    options.objectTags = decoded.KDP_S3_OBJECT_TAGS === 'true' || decoded.KDP_S3_OBJECT_TAGS === '1'
  return options
}

export interface OpenSinkOptions {
  /** Options of S3 sinks; they win over `env`. */
  readonly s3?: S3SinkOptions
  /** Also take S3 options from these variables (see s3OptionsFromEnv), e.g. `process.env`. */
  readonly env?: Environment
}

function withoutUndefined(options: S3SinkOptions): S3SinkOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as S3SinkOptions
}

/**
 * Opens the sink a URL names: `s3://bucket[/prefix]` → S3Sink, `file:///absolute/dir` →
 * FileSystemSink. Throws InvalidSinkUrlError for anything else, ValidationError for bad options.
 * Opening connects to nothing: errors of reachability show on the first operation.
 */
export function openSink(url: string, options: OpenSinkOptions = {}): Sink {
  const location = parseSinkUrl(url)
  switch (location.kind) {
    case 'file':
      return new FileSystemSink(location.dir)
    case 's3': {
      const fromEnv = options.env ? s3OptionsFromEnv(options.env) : {}
      const s3 = { ...fromEnv, ...withoutUndefined(options.s3 ?? {}) }
      return new S3Sink({ bucket: location.bucket, prefix: location.prefix }, s3)
    }
  }
}
