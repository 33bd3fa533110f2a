import { createHash, randomBytes } from 'node:crypto'
import { InvalidSinkKeyError } from './errors.js'

/**
 * Keys are relative paths with `/` between segments. The same rules hold on every sink, so a key
 * that works on one works on all: no absolute keys, no empty, `.` or `..` segments (nothing may
 * escape the sink's root, and `a//b` would name different objects on S3 and on a disk), no
 * backslashes or control characters, and no segment shaped like one of the file sink's temporary
 * files.
 */
const tempNamePattern = /^\..*\.tmp-[0-9a-f]{16}$/
// Longest file name on common file systems (NAME_MAX) and the part of it a temp name may take from the key.
const maxSegmentBytes = 255
const tempNameBaseBytes = 200

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const controlCharacters = /[\u0000-\u001f\u007f]/

/** Why `segment` cannot be part of a key, or undefined if it can. */
function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'empty path segment (leading, trailing or double "/")'
  if (segment === '.' || segment === '..') return `"${segment}" segments are not allowed`
  if (segment.includes('\\')) return 'backslashes are not allowed'
  if (controlCharacters.test(segment)) return 'control characters are not allowed'
  if (Buffer.byteLength(segment) > maxSegmentBytes) return `a segment is longer than ${maxSegmentBytes} bytes`
  if (tempNamePattern.test(segment)) return 'the name is reserved for temporary files'
  return undefined
}

/** Throws an InvalidSinkKeyError unless `key` is a valid object key. */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new InvalidSinkKeyError(String(key), 'empty key')
  if (key.startsWith('/')) throw new InvalidSinkKeyError(key, 'absolute keys are not allowed')
  for (const segment of key.split('/')) {
    const problem = segmentProblem(segment)
    if (problem) throw new InvalidSinkKeyError(key, problem)
  }
}

/**
 * Throws unless `prefix` is a valid list prefix: like a key, except that it may be empty and may end
 * with `/`. It is a string prefix, as on S3: `dt=2024-01` lists `dt=2024-01-01/...` too.
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return
  if (prefix.startsWith('/')) throw new InvalidSinkKeyError(prefix, 'absolute prefixes are not allowed')
  const segments = prefix.split('/')
  if (segments[segments.length - 1] === '') segments.pop()
  for (const segment of segments) {
    const problem = segmentProblem(segment)
    if (problem) throw new InvalidSinkKeyError(prefix, problem)
  }
}

/** Whether a file name is one of the file sink's temporary files. */
export function isTempName(name: string): boolean {
  return tempNamePattern.test(name)
}

/** A fresh temporary file name for `finalName`, in the same directory (`.<name>.tmp-<random>`). */
export function tempNameFor(finalName: string): string {
  // A long name is replaced by its hash so that the temp name stays within NAME_MAX.
  const base =
    Buffer.byteLength(finalName) <= tempNameBaseBytes
      ? finalName
      : createHash('sha256').update(finalName).digest('hex').slice(0, 32)
  return `.${base}.tmp-${randomBytes(8).toString('hex')}`
}

/** Sorts keys by UTF-16 code units, the same on every sink. */
export function sortKeys(keys: string[]): string[] {
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}
