import type { ExistingObject, ObjectMetadata, Sink } from '../../sinks/sink.js'
import { decompress, type FileCompression } from './compression.js'

/**
 * An object under the key of a file that holds another cut: written by a node that lost the
 * partition, by a different config, or by hand. Not retriable: the archiver stops (an event says
 * so) rather than overwrite it or drop the file.
 */
export class ConflictingObjectError extends Error {
  readonly retriable = false

  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`an object of another cut is already under '${key}': ${reason}`)
    this.name = 'ConflictingObjectError'
  }
}

const identity = ['kdp-first-offset', 'kdp-last-offset', 'kdp-records'] as const

/**
 * Whether the existing object is this very file: the same first and last offset and record count
 * in its attributes, or, for objects without them (a file sink, an older kdp), the same records
 * (compared uncompressed, so that another zlib version's bytes still match).
 */
async function sameFile(
  existing: ExistingObject,
  attributes: Readonly<Record<string, string>>,
  body: Buffer,
  compression: FileCompression,
): Promise<{ same: true } | { same: false; reason: string }> {
  if (existing.attributes['kdp-first-offset'] !== undefined) {
    const differs = identity.filter((name) => existing.attributes[name] !== attributes[name])
    if (differs.length === 0) return { same: true }
    const shown = differs.map((n) => `${n} ${existing.attributes[n] ?? '(none)'}, expected ${attributes[n]}`)
    return { same: false, reason: shown.join('; ') }
  }
  const theirs = await existing.read()
  if (theirs.equals(body)) return { same: true }
  try {
    if (decompress(theirs, compression).equals(decompress(body, compression))) return { same: true }
  } catch {
    // Not even the same compression: certainly another file.
  }
  return { same: false, reason: 'its records differ from this file’s' }
}

/**
 * Creates the file's object without ever replacing one. When the key is taken by this same file
 * (an earlier attempt whose commit did not happen), resolves 'already-stored'; when it holds
 * another cut, throws ConflictingObjectError.
 */
export async function storeFile(
  sink: Sink,
  key: string,
  body: Buffer,
  metadata: ObjectMetadata,
  compression: FileCompression,
  signal: AbortSignal,
): Promise<'created' | 'already-stored'> {
  const outcome = await sink.create(key, body, metadata, signal)
  if (outcome.created) return 'created'
  const check = await sameFile(outcome.existing, metadata.attributes ?? {}, body, compression)
  if (check.same) return 'already-stored'
  throw new ConflictingObjectError(key, check.reason)
}
