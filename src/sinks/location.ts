import { fileURLToPath } from 'node:url'
import { InvalidSinkUrlError } from './errors.js'
import { assertValidKey } from './keys.js'

/** Where a sink URL points. `prefix` has no leading or trailing `/` and may be empty. */
export type SinkLocation = { kind: 's3'; bucket: string; prefix: string } | { kind: 'file'; dir: string }

const reservedBucketPrefixes = ['xn--', 'sthree-', 'amzn-s3-demo-']
const reservedBucketSuffixes = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']

/** Why `name` is not a valid S3 (general purpose) bucket name, or undefined if it is. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'a bucket name has 3 to 63 characters'
  if (!/^[a-z0-9.-]+$/.test(name)) return 'a bucket name has only lowercase letters, digits, "." and "-"'
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name))
    return 'a bucket name begins and ends with a letter or digit'
  if (name.includes('..')) return 'a bucket name has no two adjacent periods'
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'a bucket name is not an IP address'
  const prefix = reservedBucketPrefixes.find((p) => name.startsWith(p))
  if (prefix) return `bucket names starting with "${prefix}" are reserved`
  const suffix = reservedBucketSuffixes.find((s) => name.endsWith(s))
  if (suffix) return `bucket names ending with "${suffix}" are reserved`
  return undefined
}

/** `s3://bucket/prefix`, or `s3://bucket` for an empty prefix. */
export function formatS3Url(bucket: string, prefix: string): string {
  return prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`
}

// Never echo user:password@ back in an error message.
function redactUserInfo(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, '$1***@')
}

function parseS3(url: string): SinkLocation {
  const fail = (reason: string): never => {
    throw new InvalidSinkUrlError(redactUserInfo(url), reason)
  }
  const rest = url.slice('s3://'.length)
  const slash = rest.indexOf('/')
  const bucket = slash < 0 ? rest : rest.slice(0, slash)
  let prefix = slash < 0 ? '' : rest.slice(slash + 1)
  if (bucket === '') fail('an S3 URL needs a bucket: s3://bucket/prefix')
  const problem = bucketNameProblem(bucket)
  if (problem) fail(`invalid bucket name "${bucket}": ${problem}`)
  if (prefix.endsWith('/')) prefix = prefix.slice(0, -1)
  if (/[?#]/.test(prefix)) fail('query strings and fragments are not supported in an S3 URL')
  if (prefix !== '') {
    try {
      assertValidKey(prefix)
    } catch (error) {
      fail(`invalid prefix: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  return { kind: 's3', bucket, prefix }
}

function parseFile(url: string): SinkLocation {
  const fail = (reason: string): never => {
    throw new InvalidSinkUrlError(redactUserInfo(url), reason)
  }
  if (!url.startsWith('file://')) fail('a file URL needs an absolute path: file:///absolute/dir')
  if (!url.startsWith('file:///')) fail('a file URL has no host: use file:///absolute/dir')
  const rawPath = url.slice('file://'.length)
  if (/[?#]/.test(rawPath)) fail('query strings and fragments are not supported in a file URL')
  if (rawPath.split('/').some((s) => s === '.' || s === '..'))
    fail('"." and ".." path segments are not allowed')
  let dir: string
  try {
    dir = fileURLToPath(new URL(url))
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
  // A trailing slash names the same directory.
  if (dir.length > 1 && dir.endsWith('/')) dir = dir.replace(/\/+$/, '')
  if (dir === '/' || dir === '') fail('a file URL needs a directory below the root: file:///absolute/dir')
  return { kind: 'file', dir }
}

/**
 * Parses a sink URL: `s3://bucket[/prefix]` or `file:///absolute/dir`. Throws an
 * InvalidSinkUrlError saying what is wrong with anything else.
 */
export function parseSinkUrl(url: string): SinkLocation {
  if (typeof url !== 'string' || url === '') throw new InvalidSinkUrlError(String(url), 'empty URL')
  if (url.trim() !== url) throw new InvalidSinkUrlError(url, 'leading or trailing whitespace')
  if (url.startsWith('s3://')) return parseS3(url)
  if (url.startsWith('file:')) return parseFile(url)
  throw new InvalidSinkUrlError(
    redactUserInfo(url),
    'unsupported scheme: use s3://bucket/prefix or file:///absolute/dir',
  )
}

/** Why `url` is not a valid sink URL, or undefined if it is (for validators that collect errors). */
export function sinkUrlProblem(url: string): string | undefined {
  try {
    parseSinkUrl(url)
    return undefined
  } catch (error) {
    return error instanceof InvalidSinkUrlError ? error.reason : String(error)
  }
}
