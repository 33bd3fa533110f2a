import type { Dirent } from 'node:fs'
import { link, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { messageOf } from '../util/errors.js'
import { abortError, SinkError, SinkObjectNotFoundError } from './errors.js'
import { assertValidKey, assertValidPrefix, isTempName, sortKeys, tempNameFor } from './keys.js'
import type { CreateOutcome, ObjectMetadata, Sink } from './sink.js'

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Flushes a directory's entries (a rename or a new child) to disk. */
async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; its rename is as durable as it gets there.
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * A sink in a local directory (`file:///absolute/dir`), the default that needs no cloud account.
 *
 * - Atomic replace: `put` writes a temporary file next to the target (`.<name>.tmp-<random>`),
 *   fsyncs it and renames it over the target, so a reader sees the old object or the new one,
 *   never a partial one; concurrent puts of one key each complete and the last rename wins.
 * - Durability: when `put` resolves, the file's data and every directory entry it needed (the
 *   rename, and parent directories it created) have been fsynced.
 * - Keys stay inside the directory (see keys.ts); `list` never returns temporary files, which a
 *   crash in the middle of a `put` may leave behind.
 * - Create without replace: `create` links the fsynced temporary file to the target name
 *   (`link(2)` fails with EEXIST instead of replacing), so an existing file is never touched.
 * - The metadata is not stored: a file's name (`.jsonl.gz`) says what it holds.
 */
export class FileSystemSink implements Sink {
  readonly url: string
  /** The absolute root directory. */
  readonly dir: string

  constructor(dir: string) {
    if (!path.isAbsolute(dir))
      throw new Error(`file sink directory must be absolute, got ${JSON.stringify(dir)}`)
    this.dir = path.resolve(dir)
    this.url = pathToFileURL(this.dir).href
  }

  private pathOf(key: string): string {
    assertValidKey(key)
    const full = path.join(this.dir, ...key.split('/'))
    // Defence in depth: assertValidKey already rules out anything that could leave the root.
    const relative = path.relative(this.dir, full)
    if (
      relative === '' ||
      relative === '..' ||
      relative.startsWith(`..${path.sep}`) ||
      path.isAbsolute(relative)
    )
      throw new Error(`key ${JSON.stringify(key)} resolves outside ${this.dir}`)
    return full
  }

  async put(key: string, body: Buffer, _metadata: ObjectMetadata, signal?: AbortSignal): Promise<void> {
    await this.#store(key, body, signal, 'replace')
  }

  async create(
    key: string,
    body: Buffer,
    _metadata: ObjectMetadata,
    signal?: AbortSignal,
  ): Promise<CreateOutcome> {
    const stored = await this.#store(key, body, signal, 'create')
    if (stored) return { created: true }
    return { created: false, existing: { attributes: {}, read: () => this.get(key) } }
  }

  /** Writes a fsynced temporary file and moves it into place; false when `create` found the key taken. */
  async #store(
    key: string,
    body: Buffer,
    signal: AbortSignal | undefined,
    mode: 'replace' | 'create',
  ): Promise<boolean> {
    const finalPath = this.pathOf(key)
    if (signal?.aborted) throw abortError(`put '${key}' on ${this.url}`, signal)
    const parent = path.dirname(finalPath)
    let created: string | undefined
    try {
      created = await mkdir(parent, { recursive: true })
    } catch (error) {
      throw new SinkError('put', this.url, key, `cannot create directory ${parent}: ${messageOf(error)}`, {
        cause: error,
      })
    }
    const tempPath = path.join(parent, tempNameFor(path.basename(finalPath)))
    let placed = false
    try {
      const handle = await open(tempPath, 'wx', 0o644)
      try {
        await handle.writeFile(body)
        await handle.sync()
      } finally {
        await handle.close()
      }
      if (signal?.aborted) throw abortError(`put '${key}' on ${this.url}`, signal)
      if (mode === 'replace') {
        await rename(tempPath, finalPath)
      } else {
        try {
          await link(tempPath, finalPath)
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') throw error
          await rm(tempPath, { force: true })
          return false
        }
        await rm(tempPath, { force: true })
      }
      placed = true
      // The new entry lives in `parent`; each directory mkdir created lives in its own parent.
      const toSync = [parent]
      if (created !== undefined) {
        for (let dir = parent; dir !== created && dir !== path.dirname(dir); dir = path.dirname(dir))
          toSync.push(path.dirname(dir))
        toSync.push(path.dirname(created))
      }
      for (const dir of new Set(toSync)) await syncDirectory(dir)
      return true
    } catch (error) {
      if (!placed) await rm(tempPath, { force: true }).catch(() => {})
      if (error instanceof Error && error.name === 'AbortError') throw error
      throw new SinkError('put', this.url, key, messageOf(error), { cause: error })
    }
  }

  async list(prefix = ''): Promise<string[]> {
    assertValidPrefix(prefix)
    // Walk only the deepest directory the prefix names completely; filter the rest as a string prefix.
    const slash = prefix.lastIndexOf('/')
    const startKey = slash < 0 ? '' : prefix.slice(0, slash)
    const keys: string[] = []
    const pending: string[] = [startKey]
    try {
      for (let relative = pending.pop(); relative !== undefined; relative = pending.pop()) {
        const dir = relative === '' ? this.dir : path.join(this.dir, ...relative.split('/'))
        let entries: Dirent[]
        try {
          entries = await readdir(dir, { withFileTypes: true })
        } catch (error) {
          // A missing root or prefix directory lists nothing; so does one removed during the walk.
          if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') continue
          throw error
        }
        for (const entry of entries) {
          const key = relative === '' ? entry.name : `${relative}/${entry.name}`
          if (entry.isDirectory()) {
            if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) pending.push(key)
          } else if (entry.isFile() && !isTempName(entry.name) && key.startsWith(prefix)) {
            keys.push(key)
          }
        }
      }
    } catch (error) {
      throw new SinkError('list', this.url, undefined, messageOf(error), { cause: error })
    }
    return sortKeys(keys)
  }

  async get(key: string): Promise<Buffer> {
    const file = this.pathOf(key)
    try {
      return await readFile(file)
    } catch (error) {
      const code = errorCode(error)
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR')
        throw new SinkObjectNotFoundError(this.url, key, { cause: error })
      throw new SinkError('get', this.url, key, messageOf(error), { cause: error })
    }
  }

  async close(): Promise<void> {}
}
