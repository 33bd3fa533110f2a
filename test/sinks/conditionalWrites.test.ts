// Objects created without replacing (S3 If-None-Match: * on PutObject and CompleteMultipartUpload,
// the file sink's link), and the production options of the S3 sink, against moto and a real disk.
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { FileSystemSink } from '../../src/sinks/fileSystemSink.js'
import { S3Sink } from '../../src/sinks/s3Sink.js'
import type { S3SinkOptions } from '../../src/sinks/s3SinkOptions.js'
import { motoS3 } from '../helpers/aws.js'
import { uniqueName } from '../helpers/names.js'

const MiB = 1024 * 1024
const attributes = { 'kdp-first-offset': '0', 'kdp-last-offset': '9', 'kdp-records': '10' }
const meta = { contentType: 'application/x-ndjson', contentEncoding: 'gzip', attributes }

describe('S3Sink.create on moto', () => {
  const s3 = motoS3()
  const bucket = uniqueName('kdp-create')
  const sinks: S3Sink[] = []
  const open = (extra: S3SinkOptions = {}): S3Sink => {
    const sink = new S3Sink(
      { bucket, prefix: 'c' },
      {
        endpoint: inject('motoEndpoint'),
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        ...extra,
      },
    )
    sinks.push(sink)
    return sink
  }
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  })
  afterAll(async () => {
    for (const sink of sinks) await sink.close()
    s3.destroy()
  })

  it('creates once; a second create leaves the first object and hands back its attributes', async () => {
    const sink = open()
    expect(await sink.create('a.jsonl.gz', Buffer.from('first'), meta)).toEqual({ created: true })
    const again = await sink.create('a.jsonl.gz', Buffer.from('second'), {
      ...meta,
      attributes: { ...attributes, 'kdp-records': '3' },
    })
    expect(again.created).toBe(false)
    if (again.created) throw new Error('unreachable')
    expect(again.existing.attributes).toEqual(attributes)
    expect((await again.existing.read()).toString()).toBe('first')
    expect((await sink.get('a.jsonl.gz')).toString()).toBe('first')
  })

  it('is conditional for multipart bodies too (CompleteMultipartUpload), and leaves no upload behind', async () => {
    const sink = open({ partSize: 5 * MiB })
    const big = Buffer.alloc(11 * MiB, 1)
    expect(await sink.create('big.bin', big, meta)).toEqual({ created: true })
    const other = Buffer.alloc(11 * MiB, 2)
    const again = await sink.create('big.bin', other, meta)
    expect(again.created).toBe(false)
    expect((await sink.get('big.bin')).equals(big)).toBe(true)
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'c/big.bin' }))
    expect(uploads.Uploads ?? []).toEqual([])
  })

  it('stores the storage class, the attributes as metadata and tags, and the chosen checksum', async () => {
    const sink = open({ storageClass: 'STANDARD_IA', objectTags: true, checksumAlgorithm: 'SHA256' })
    await sink.create('tagged.jsonl.gz', Buffer.from('x'), meta)
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c/tagged.jsonl.gz' }))
    expect(head.StorageClass).toBe('STANDARD_IA')
    expect(head.Metadata).toEqual(attributes)
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'c/tagged.jsonl.gz' }))
    expect(Object.fromEntries((tags.TagSet ?? []).map((t) => [t.Key, t.Value]))).toEqual(attributes)
    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'c/tagged.jsonl.gz', ChecksumMode: 'ENABLED' }),
    )
    expect(object.ChecksumSHA256).toBe(createHash('sha256').update('x').digest('base64'))
    await object.Body?.transformToString()
    // Without objectTags no tag is written (tags need their own permission and are billed).
    await open().create('untagged.jsonl.gz', Buffer.from('x'), meta)
    const none = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'c/untagged.jsonl.gz' }))
    expect(none.TagSet ?? []).toEqual([])
  })
})

describe('FileSystemSink.create', () => {
  it('links without replacing: the first file stays, no temporary file is left', async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'kdp-fs-create-'))
    try {
      const sink = new FileSystemSink(base)
      expect(await sink.create('d/a.jsonl', Buffer.from('first'), meta)).toEqual({ created: true })
      const again = await sink.create('d/a.jsonl', Buffer.from('second'), meta)
      expect(again.created).toBe(false)
      if (again.created) throw new Error('unreachable')
      expect(again.existing.attributes).toEqual({})
      expect((await again.existing.read()).toString()).toBe('first')
      expect(await readdir(path.join(base, 'd'))).toEqual(['a.jsonl'])
      // put still replaces.
      await sink.put('d/a.jsonl', Buffer.from('third'), meta)
      expect((await sink.get('d/a.jsonl')).toString()).toBe('third')
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
})
