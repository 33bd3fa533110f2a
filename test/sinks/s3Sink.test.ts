import { randomBytes } from 'node:crypto'
import net from 'node:net'
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { InvalidSinkKeyError, SinkError, SinkObjectNotFoundError } from '../../src/sinks/errors.js'
import { S3Sink } from '../../src/sinks/s3Sink.js'
import type { S3SinkOptions } from '../../src/sinks/s3SinkOptions.js'
import { motoS3 } from '../helpers/aws.js'
import { eventually, uniqueName } from '../helpers/names.js'

const MiB = 1024 * 1024
const meta = { contentType: 'application/x-ndjson', contentEncoding: 'gzip' }

function motoOptions(extra: S3SinkOptions = {}): S3SinkOptions {
  return {
    endpoint: inject('motoEndpoint'),
    region: 'us-east-1',
    forcePathStyle: true,
    // moto accepts any credentials; fixed test values, not secrets.
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...extra,
  }
}

/** A TCP server that accepts connections and never answers: an S3 that hangs. */
async function blackHole(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('data', () => {})
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * A TCP proxy to moto that forwards the first `limitBytes` sent by clients, then stalls every
 * connection that goes over it (an S3 outage in the middle of an upload). Connections opened after
 * `release()` pass freely.
 */
async function stallingProxy(
  target: string,
  limitBytes: number,
): Promise<{ endpoint: string; release: () => void; close: () => Promise<void> }> {
  const { hostname, port: targetPort } = new URL(target)
  const sockets = new Set<net.Socket>()
  let forwarded = 0
  let released = false
  const server = net.createServer((client) => {
    const limited = !released
    let stalled = false
    const upstream = net.connect(Number(targetPort), hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        sockets.delete(socket)
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (chunk: Buffer) => {
      if (stalled) return
      if (limited && forwarded + chunk.length > limitBytes) {
        stalled = true
        return
      }
      forwarded += chunk.length
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!stalled) client.write(chunk)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    release: () => {
      released = true
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('S3Sink on moto', () => {
  let s3: S3Client
  let bucket: string
  const sinks: S3Sink[] = []
  const open = (prefix: string, extra: S3SinkOptions = {}): S3Sink => {
    const sink = new S3Sink({ bucket, prefix }, motoOptions(extra))
    sinks.push(sink)
    return sink
  }
  const head = (Key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key }))

  beforeAll(async () => {
    s3 = motoS3()
    bucket = uniqueName('kdp-sinks')
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  })
  afterAll(async () => {
    for (const sink of sinks) await sink.close()
    s3.destroy()
  })

  it('round-trips put, get and list under its prefix, with content type and encoding stored', async () => {
    const sink = open('archive/orders')
    expect(sink.url).toBe(`s3://${bucket}/archive/orders`)
    await sink.put('dt=2024-01-02/hr=03/b.jsonl.gz', Buffer.from('second'), meta)
    await sink.put('dt=2024-01-02/hr=03/a.jsonl.gz', Buffer.from('first'), meta)
    await sink.put('dt=2024-01-03/hr=00/c.jsonl', Buffer.from('third'), {
      contentType: 'application/x-ndjson',
    })
    expect((await sink.get('dt=2024-01-02/hr=03/a.jsonl.gz')).toString()).toBe('first')
    expect(await sink.list()).toEqual([
      'dt=2024-01-02/hr=03/a.jsonl.gz',
      'dt=2024-01-02/hr=03/b.jsonl.gz',
      'dt=2024-01-03/hr=00/c.jsonl',
    ])
    expect(await sink.list('dt=2024-01-02')).toEqual([
      'dt=2024-01-02/hr=03/a.jsonl.gz',
      'dt=2024-01-02/hr=03/b.jsonl.gz',
    ])

    const stored = await head('archive/orders/dt=2024-01-02/hr=03/a.jsonl.gz')
    expect(stored.ContentType).toBe('application/x-ndjson')
    expect(stored.ContentEncoding).toBe('gzip')
    expect(stored.ContentLength).toBe(5)
    const plain = await head('archive/orders/dt=2024-01-03/hr=00/c.jsonl')
    expect(plain.ContentEncoding).toBeUndefined()
  })

  it('keeps to its own prefix (a sibling prefix that starts the same is not listed)', async () => {
    const mine = open('shared/topic')
    const sibling = open('shared/topic2')
    await mine.put('a', Buffer.from('mine'), meta)
    await sibling.put('a', Buffer.from('sibling'), meta)
    // An object outside any sink, and a console-made folder marker inside mine.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared/topicX', Body: 'x' }))
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'shared/topic/folder/', Body: new Uint8Array(0) }),
    )
    expect(await mine.list()).toEqual(['a'])
    expect(await sibling.list()).toEqual(['a'])
    expect((await mine.get('a')).toString()).toBe('mine')
  })

  it('writes object keys without double or leading slashes, with or without a prefix', async () => {
    const noPrefix = open('')
    expect(noPrefix.url).toBe(`s3://${bucket}`)
    await noPrefix.put('root-level/key.txt', Buffer.from('r'), meta)
    const slashed = open('/trimmed/prefix/')
    expect(slashed.url).toBe(`s3://${bucket}/trimmed/prefix`)
    await slashed.put('k', Buffer.from('t'), meta)
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket }))
    const keys = (listing.Contents ?? []).map((o) => o.Key ?? '')
    expect(keys).toContain('root-level/key.txt')
    expect(keys).toContain('trimmed/prefix/k')
    expect(keys.filter((k) => k.startsWith('/') || k.includes('//'))).toEqual([])
    expect(await noPrefix.list('root-level/')).toEqual(['root-level/key.txt'])
  })

  it('uploads a large body multipart with the default 8 MiB parts and reads it back intact', async () => {
    const sink = open('multipart-default')
    const body = randomBytes(12 * MiB + 321)
    await sink.put('big.bin', body, meta)
    const stored = await head('multipart-default/big.bin')
    // A multipart object's ETag ends with the part count: 12 MiB in 8 MiB parts is 2 parts.
    expect(stored.ETag).toMatch(/-2"?$/)
    expect(stored.ContentEncoding).toBe('gzip')
    expect(stored.ContentType).toBe('application/x-ndjson')
    expect((await sink.get('big.bin')).equals(body)).toBe(true)
  })

  it('uses the configured part size and leaves no multipart upload behind', async () => {
    const sink = open('multipart-5', { partSize: 5 * MiB, queueSize: 2 })
    const body = randomBytes(12 * MiB)
    await sink.put('big.bin', body, meta)
    expect((await head('multipart-5/big.bin')).ETag).toMatch(/-3"?$/)
    const small = randomBytes(5 * MiB)
    await sink.put('exactly-one-part.bin', small, meta)
    expect((await head('multipart-5/exactly-one-part.bin')).ETag).not.toMatch(/-\d+"?$/)
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'multipart-5/' }))
    expect(uploads.Uploads ?? []).toEqual([])
  })

  it('replaces an object on overwrite, multipart by small and back', async () => {
    const sink = open('overwrite', { partSize: 5 * MiB })
    const big = randomBytes(6 * MiB)
    await sink.put('k', Buffer.from('first version'), meta)
    await sink.put('k', big, meta)
    expect((await sink.get('k')).equals(big)).toBe(true)
    await sink.put('k', Buffer.from('third'), { contentType: 'text/plain' })
    expect((await sink.get('k')).toString()).toBe('third')
    const stored = await head('overwrite/k')
    expect(stored.ContentType).toBe('text/plain')
    expect(stored.ContentEncoding).toBeUndefined()
    expect(await sink.list()).toEqual(['k'])
  })

  it('requests server-side encryption: AES256 and aws:kms, small and multipart', async () => {
    const aes = open('sse-aes', { serverSideEncryption: 'AES256', partSize: 5 * MiB })
    await aes.put('small', Buffer.from('secret'), meta)
    await aes.put('large', randomBytes(6 * MiB), meta)
    expect((await head('sse-aes/small')).ServerSideEncryption).toBe('AES256')
    expect((await head('sse-aes/large')).ServerSideEncryption).toBe('AES256')
    expect((await aes.get('small')).toString()).toBe('secret')

    const kms = open('sse-kms', { serverSideEncryption: 'aws:kms', sseKmsKeyId: 'alias/kdp-test' })
    await kms.put('small', Buffer.from('secret'), meta)
    const stored = await head('sse-kms/small')
    expect(stored.ServerSideEncryption).toBe('aws:kms')
    expect(stored.SSEKMSKeyId).toContain('kdp-test')
  })

  it('rejects a missing key with SinkObjectNotFoundError and bad keys before any request', async () => {
    const sink = open('missing')
    await expect(sink.get('nope')).rejects.toThrow(SinkObjectNotFoundError)
    await expect(sink.put('../escape', Buffer.from('x'), meta)).rejects.toThrow(InvalidSinkKeyError)
    await expect(sink.put('a//b', Buffer.from('x'), meta)).rejects.toThrow(InvalidSinkKeyError)
    await expect(sink.put('/abs', Buffer.from('x'), meta)).rejects.toThrow(InvalidSinkKeyError)
    await expect(sink.get('a/./b')).rejects.toThrow(InvalidSinkKeyError)
    await expect(sink.list('../')).rejects.toThrow(InvalidSinkKeyError)
    expect(await sink.list()).toEqual([])
  })

  it('validates its options and bucket name, naming every bad field', () => {
    expect(() => new S3Sink({ bucket: 'Bad_Bucket' }, motoOptions())).toThrow(/invalid S3 bucket name/)
    let message = ''
    try {
      new S3Sink(
        { bucket, prefix: 'p' },
        motoOptions({ partSize: 1024, queueSize: 0, endpoint: 'ftp://x', sseKmsKeyId: 'k' }),
      )
    } catch (error) {
      message = String(error)
    }
    expect(message).toMatch(/ValidationError: invalid S3 sink options/)
    for (const field of ['partSize', 'queueSize', 'endpoint', 'sseKmsKeyId']) expect(message).toContain(field)
  })

  it('rejects a put, with a clear error, when S3 is unreachable (connection refused)', async () => {
    const sink = new S3Sink(
      { bucket: 'kdp-unreachable', prefix: 'p' },
      {
        ...motoOptions(),
        endpoint: 'http://127.0.0.1:1',
      },
    )
    sinks.push(sink)
    const put = sink.put('k', Buffer.from('x'), meta)
    await expect(put).rejects.toThrow(SinkError)
    await expect(put).rejects.toThrow(/^put 'k' on s3:\/\/kdp-unreachable\/p failed: .*ECONNREFUSED/)
    await expect(sink.list()).rejects.toThrow(/list on s3:\/\/kdp-unreachable\/p failed/)
    await expect(sink.get('k')).rejects.toThrow(/get 'k' on s3:\/\/kdp-unreachable\/p failed/)
  }, 60_000)

  it('rejects a put when S3 accepts connections but never answers (request timeout)', async () => {
    const hole = await blackHole()
    try {
      const sink = new S3Sink(
        { bucket: 'kdp-hung' },
        {
          ...motoOptions(),
          endpoint: hole.endpoint,
          requestTimeoutMs: 300,
          maxAttempts: 2,
        },
      )
      sinks.push(sink)
      await expect(sink.put('k', Buffer.from('x'), meta)).rejects.toThrow(
        /put 'k' on s3:\/\/kdp-hung failed: .*requestTimeout/,
      )
      const multipart = sink.put('big', randomBytes(9 * MiB), meta)
      await expect(multipart).rejects.toThrow(/put 'big' on s3:\/\/kdp-hung failed/)
    } finally {
      await hole.close()
    }
  }, 60_000)

  it('abandons a hanging put at once when its signal aborts', async () => {
    const hole = await blackHole()
    try {
      const sink = new S3Sink({ bucket: 'kdp-hung' }, { ...motoOptions(), endpoint: hole.endpoint })
      sinks.push(sink)
      for (const body of [Buffer.from('x'), randomBytes(9 * MiB)]) {
        const controller = new AbortController()
        const put = sink.put('k', body, meta, controller.signal)
        setTimeout(() => controller.abort(new Error('shutting down')), 200)
        await expect(put).rejects.toMatchObject({ name: 'AbortError' })
      }
    } finally {
      await hole.close()
    }
  }, 60_000)

  it('aborts the multipart upload on S3 when a put is abandoned mid-upload, so no parts linger', async () => {
    // The first part (5 MiB) reaches moto, the second stalls in the proxy.
    const proxy = await stallingProxy(inject('motoEndpoint'), 6 * MiB)
    try {
      const sink = new S3Sink(
        { bucket, prefix: 'abandoned' },
        {
          ...motoOptions(),
          endpoint: proxy.endpoint,
          partSize: 5 * MiB,
          queueSize: 1,
          requestTimeoutMs: 2_000,
          maxAttempts: 1,
        },
      )
      sinks.push(sink)
      const controller = new AbortController()
      const put = sink.put('big.bin', randomBytes(12 * MiB), meta, controller.signal)
      put.catch(() => {})
      const uploadId = await eventually('the multipart upload to have its first part', async () => {
        const uploads = await s3.send(
          new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'abandoned/' }),
        )
        const upload = uploads.Uploads?.[0]
        if (!upload?.UploadId) return undefined
        const parts = await s3.send(
          new ListPartsCommand({ Bucket: bucket, Key: 'abandoned/big.bin', UploadId: upload.UploadId }),
        )
        return (parts.Parts ?? []).length >= 1 ? upload.UploadId : undefined
      })
      expect(uploadId).toBeTruthy()
      controller.abort()
      await expect(put).rejects.toMatchObject({ name: 'AbortError' })
      proxy.release()
      await eventually('the abandoned multipart upload to be aborted on S3', async () => {
        const uploads = await s3.send(
          new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'abandoned/' }),
        )
        return (uploads.Uploads ?? []).length === 0 ? true : undefined
      })
      expect(await sink.list()).toEqual([])
    } finally {
      await proxy.close()
    }
  }, 60_000)
})
