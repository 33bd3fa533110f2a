import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidSinkKeyError, SinkError, SinkObjectNotFoundError } from '../../src/sinks/errors.js'
import { FileSystemSink } from '../../src/sinks/fileSystemSink.js'

const meta = { contentType: 'application/x-ndjson', contentEncoding: 'gzip' }

/** Every file name under `dir`, recursively, temporary ones included. */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
}

describe('FileSystemSink', () => {
  let base: string
  let root: string
  let sink: FileSystemSink

  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'kdp-fs-sink-'))
    root = path.join(base, 'root')
    sink = new FileSystemSink(root)
  })
  afterEach(async () => {
    await sink.close()
    await rm(base, { recursive: true, force: true })
  })

  it('round-trips objects, creating parent directories, and lists them sorted', async () => {
    await sink.put('topic/dt=2024-01-02/hr=03/b.jsonl.gz', Buffer.from('second'), meta)
    await sink.put('topic/dt=2024-01-02/hr=03/a.jsonl.gz', Buffer.from('first'), meta)
    await sink.put('top.txt', Buffer.from('top'), { contentType: 'text/plain' })
    expect((await sink.get('topic/dt=2024-01-02/hr=03/a.jsonl.gz')).toString()).toBe('first')
    expect(await readFile(path.join(root, 'topic', 'dt=2024-01-02', 'hr=03', 'b.jsonl.gz'), 'utf8')).toBe(
      'second',
    )
    expect(await sink.list()).toEqual([
      'top.txt',
      'topic/dt=2024-01-02/hr=03/a.jsonl.gz',
      'topic/dt=2024-01-02/hr=03/b.jsonl.gz',
    ])
    expect(sink.url).toBe(`file://${root}`)
  })

  it('lists by string prefix, like S3', async () => {
    for (const key of ['t/dt=2024-01-01/x', 't/dt=2024-01-02/y', 't/dt=2024-02-01/z', 'u/dt=2024-01-01/w'])
      await sink.put(key, Buffer.from(key), meta)
    expect(await sink.list('t/dt=2024-01')).toEqual(['t/dt=2024-01-01/x', 't/dt=2024-01-02/y'])
    expect(await sink.list('t/')).toEqual(['t/dt=2024-01-01/x', 't/dt=2024-01-02/y', 't/dt=2024-02-01/z'])
    expect(await sink.list('t/dt=2024-02-01/z')).toEqual(['t/dt=2024-02-01/z'])
    expect(await sink.list('nothing/here')).toEqual([])
  })

  it('lists nothing when its directory does not exist yet', async () => {
    expect(await sink.list()).toEqual([])
  })

  it('overwrites an existing key whole (a shorter body leaves nothing of the longer one)', async () => {
    await sink.put('k/obj', Buffer.alloc(1000, 'a'), meta)
    await sink.put('k/obj', Buffer.from('short'), meta)
    expect((await sink.get('k/obj')).toString()).toBe('short')
    expect(await sink.list()).toEqual(['k/obj'])
    expect(await allFiles(root)).toEqual([path.join('k', 'obj')])
  })

  it('never shows a concurrent reader a partial object while the object is replaced', async () => {
    const a = Buffer.alloc(4 * 1024 * 1024, 0x41)
    const b = Buffer.alloc(3 * 1024 * 1024 + 17, 0x42)
    await sink.put('big/obj', a, meta)
    let writing = true
    let reads = 0
    const seen = new Set<string>()
    const bad: string[] = []
    const check = (body: Buffer, via: string): void => {
      reads++
      if (body.equals(a)) seen.add('a')
      else if (body.equals(b)) seen.add('b')
      else bad.push(`${via}: ${body.length} bytes`)
    }
    const reader = async (): Promise<void> => {
      while (writing) {
        check(await sink.get('big/obj'), 'get')
        check(await readFile(path.join(root, 'big', 'obj')), 'readFile')
      }
    }
    const lister = async (): Promise<void> => {
      while (writing) {
        const keys = await sink.list()
        if (keys.join(',') !== 'big/obj') bad.push(`list: ${keys.join(',')}`)
      }
    }
    const writer = async (): Promise<void> => {
      try {
        for (let i = 0; i < 30; i++) await sink.put('big/obj', i % 2 === 0 ? b : a, meta)
      } finally {
        writing = false
      }
    }
    await Promise.all([writer(), reader(), reader(), lister()])
    expect(bad).toEqual([])
    expect(reads).toBeGreaterThan(0)
    expect(seen.size).toBeGreaterThan(0)
    expect(await allFiles(root)).toEqual([path.join('big', 'obj')])
  })

  it('never lists temporary files, such as those a crash leaves behind', async () => {
    await sink.put('d/real', Buffer.from('x'), meta)
    await writeFile(path.join(root, 'd', '.real.tmp-0123456789abcdef'), 'partial')
    await writeFile(path.join(root, '.other.tmp-fedcba9876543210'), 'partial')
    expect(await sink.list()).toEqual(['d/real'])
    expect(await sink.list('d/')).toEqual(['d/real'])
  })

  it('leaves no temporary file behind when a put fails', async () => {
    await sink.put('dir/inner', Buffer.from('x'), meta)
    // 'dir' is a directory, so an object cannot be renamed over it.
    const failure = sink.put('dir', Buffer.from('y'), meta)
    await expect(failure).rejects.toThrow(SinkError)
    await expect(failure).rejects.toThrow(/put 'dir' on file:/)
    expect(await allFiles(root)).toEqual([path.join('dir', 'inner')])
  })

  it('rejects keys that could escape its directory or are ambiguous, and writes nothing', async () => {
    const bad = [
      '',
      '../outside',
      'a/../../outside',
      '..',
      '/etc/passwd',
      'a//b',
      'a/',
      './a',
      'a/./b',
      'a\\b',
      'a\u0000b',
      '.name.tmp-0123456789abcdef',
      'x'.repeat(256),
    ]
    for (const key of bad) {
      await expect(sink.put(key, Buffer.from('x'), meta), key).rejects.toThrow(InvalidSinkKeyError)
      await expect(sink.get(key), key).rejects.toThrow(InvalidSinkKeyError)
    }
    await expect(sink.list('../')).rejects.toThrow(InvalidSinkKeyError)
    await expect(sink.list('/abs')).rejects.toThrow(/absolute/)
    await expect(sink.put('a/../../outside', Buffer.from('x'), meta)).rejects.toThrow(/"\.\." segments/)
    await expect(sink.put('a//b', Buffer.from('x'), meta)).rejects.toThrow(/empty path segment/)
    expect(await readdir(base)).toEqual([])
  })

  it('accepts keys with dots, spaces and unicode that stay inside', async () => {
    const keys = ['..a/b', 'a/..b', 'a b/ünï.json', '.hidden/x.tmp-1']
    for (const key of keys) await sink.put(key, Buffer.from(key), meta)
    expect(await sink.list()).toEqual([...keys].sort())
    for (const key of keys) expect((await sink.get(key)).toString()).toBe(key)
  })

  it('rejects a missing key with SinkObjectNotFoundError', async () => {
    await expect(sink.get('missing/key')).rejects.toThrow(SinkObjectNotFoundError)
    await sink.put('present/key', Buffer.from('x'), meta)
    await expect(sink.get('present')).rejects.toThrow(SinkObjectNotFoundError)
    await expect(sink.get('present/key/deeper')).rejects.toThrow(SinkObjectNotFoundError)
  })

  it('does not write when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(sink.put('k', Buffer.from('x'), meta, controller.signal)).rejects.toMatchObject({
      name: 'AbortError',
    })
    expect(await sink.list()).toEqual([])
  })

  it('writes into an existing directory and refuses a relative root', async () => {
    await mkdir(root, { recursive: true })
    await writeFile(path.join(root, 'existing'), 'old')
    await sink.put('existing', Buffer.from('new'), meta)
    expect(await readFile(path.join(root, 'existing'), 'utf8')).toBe('new')
    expect(() => new FileSystemSink('relative/dir')).toThrow(/absolute/)
  })
})
