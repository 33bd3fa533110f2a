import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { describe, expect, inject, it } from 'vitest'
import { InvalidSinkUrlError } from '../../src/sinks/errors.js'
import { FileSystemSink } from '../../src/sinks/fileSystemSink.js'
import { openSink, parseSinkUrl, s3OptionsFromEnv, sinkUrlProblem } from '../../src/sinks/openSink.js'
import { S3Sink } from '../../src/sinks/s3Sink.js'
import { ValidationError } from '../../src/util/decode.js'
import { motoS3 } from '../helpers/aws.js'
import { uniqueName } from '../helpers/names.js'

describe('parseSinkUrl', () => {
  it.each([
    ['s3://my-bucket', { kind: 's3', bucket: 'my-bucket', prefix: '' }],
    ['s3://my-bucket/', { kind: 's3', bucket: 'my-bucket', prefix: '' }],
    ['s3://my.bucket.01/archive', { kind: 's3', bucket: 'my.bucket.01', prefix: 'archive' }],
    ['s3://abc/archive/topics/', { kind: 's3', bucket: 'abc', prefix: 'archive/topics' }],
    ['s3://abc/dt=2024 x/ü', { kind: 's3', bucket: 'abc', prefix: 'dt=2024 x/ü' }],
    ['file:///var/lib/kdp', { kind: 'file', dir: '/var/lib/kdp' }],
    ['file:///var/lib/kdp/', { kind: 'file', dir: '/var/lib/kdp' }],
    ['file:///tmp/with%20space', { kind: 'file', dir: '/tmp/with space' }],
  ])('parses %s', (url, expected) => {
    expect(parseSinkUrl(url)).toEqual(expected)
    expect(sinkUrlProblem(url)).toBeUndefined()
  })

  it.each([
    ['', /empty URL/],
    [' s3://bucket', /whitespace/],
    ['s3://', /needs a bucket/],
    ['s3:///prefix', /needs a bucket/],
    ['s3://ab', /3 to 63 characters/],
    [`s3://${'a'.repeat(64)}`, /3 to 63 characters/],
    ['s3://My_Bucket/x', /lowercase letters/],
    ['s3://-bucket', /begins and ends with a letter or digit/],
    ['s3://bucket./x', /begins and ends/],
    ['s3://my..bucket', /two adjacent periods/],
    ['s3://192.168.1.1', /IP address/],
    ['s3://xn--bucket', /reserved/],
    ['s3://bucket-s3alias', /reserved/],
    ['s3://bucket/a//b', /invalid prefix: .*empty path segment/],
    ['s3://bucket/../x', /invalid prefix: .*"\.\." segments/],
    ['s3://bucket/p?region=eu-west-1', /query strings/],
    ['http://example.com/dir', /unsupported scheme/],
    ['S3://bucket', /unsupported scheme/],
    ['/var/lib/kdp', /unsupported scheme/],
    ['./archive', /unsupported scheme/],
    ['file:relative/dir', /absolute path/],
    ['file://relative/dir', /no host/],
    ['file://localhost/var/lib', /no host/],
    ['file:///', /below the root/],
    ['file:///data/../etc', /"\.\." path segments/],
    ['file:///data?x=1', /query strings/],
    ['file:///a%2Fb', /encoded/],
  ])('rejects %s', (url, reason) => {
    expect(() => parseSinkUrl(url)).toThrow(InvalidSinkUrlError)
    expect(() => parseSinkUrl(url)).toThrow(reason)
    expect(sinkUrlProblem(url)).toMatch(reason)
  })

  it('does not echo user info of a URL in its error', () => {
    expect(() => parseSinkUrl('https://user:hunter2@example.com/x')).toThrow(/https:\/\/\*\*\*@example\.com/)
    expect(sinkUrlProblem('https://user:hunter2@example.com/x')).not.toContain('hunter2')
    let message = ''
    try {
      parseSinkUrl('https://user:hunter2@example.com/x')
    } catch (error) {
      message = String(error)
    }
    expect(message).not.toContain('hunter2')
  })
})

describe('s3OptionsFromEnv', () => {
  it('decodes every variable', () => {
    expect(
      s3OptionsFromEnv({
        KDP_S3_ENDPOINT: 'http://127.0.0.1:5000',
        AWS_REGION: 'eu-west-1',
        KDP_S3_FORCE_PATH_STYLE: 'true',
        KDP_S3_SSE: 'aws:kms',
        KDP_S3_SSE_KMS_KEY_ID: 'alias/archive',
        UNRELATED: 'ignored',
      }),
    ).toEqual({
      endpoint: 'http://127.0.0.1:5000',
      region: 'eu-west-1',
      forcePathStyle: true,
      serverSideEncryption: 'aws:kms',
      sseKmsKeyId: 'alias/archive',
    })
    expect(s3OptionsFromEnv({ KDP_S3_FORCE_PATH_STYLE: '0', KDP_S3_SSE: 'AES256' })).toEqual({
      forcePathStyle: false,
      serverSideEncryption: 'AES256',
    })
  })

  it('leaves unset and empty variables out', () => {
    expect(s3OptionsFromEnv({})).toEqual({})
    expect(s3OptionsFromEnv({ KDP_S3_ENDPOINT: '', AWS_REGION: undefined })).toEqual({})
  })

  it('names every bad variable in one ValidationError', () => {
    let error: unknown
    try {
      s3OptionsFromEnv({
        KDP_S3_ENDPOINT: 'ftp://files.example.com',
        AWS_REGION: 'eu west',
        KDP_S3_FORCE_PATH_STYLE: 'yes',
        KDP_S3_SSE: 'aes256',
      })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ValidationError)
    const validation = error as ValidationError
    expect(validation.errors.map((e) => e.path).sort()).toEqual([
      'AWS_REGION',
      'KDP_S3_ENDPOINT',
      'KDP_S3_FORCE_PATH_STYLE',
      'KDP_S3_SSE',
    ])
    expect(validation.message).toContain('KDP_S3_SSE: expected "AES256" | "aws:kms", got "aes256"')
    expect(validation.message).toContain('KDP_S3_FORCE_PATH_STYLE')
  })

  it('refuses a KMS key id without aws:kms', () => {
    expect(() => s3OptionsFromEnv({ KDP_S3_SSE_KMS_KEY_ID: 'alias/x' })).toThrow(
      /KDP_S3_SSE_KMS_KEY_ID: .*KDP_S3_SSE must be aws:kms/,
    )
    expect(() => s3OptionsFromEnv({ KDP_S3_SSE: 'AES256', KDP_S3_SSE_KMS_KEY_ID: 'alias/x' })).toThrow(
      ValidationError,
    )
  })
})

describe('openSink', () => {
  it('opens a file sink for a file URL', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kdp-open-sink-'))
    try {
      const sink = openSink(`file://${dir}/archive`)
      expect(sink).toBeInstanceOf(FileSystemSink)
      expect(sink.url).toBe(`file://${dir}/archive`)
      await sink.put('a/b', Buffer.from('x'), { contentType: 'text/plain' })
      expect(await sink.list()).toEqual(['a/b'])
      await sink.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('opens an S3 sink with options from the environment, explicit options winning', async () => {
    const bucket = uniqueName('kdp-open-sink')
    const s3 = motoS3()
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    s3.destroy()
    const sink = openSink(`s3://${bucket}/from-env/`, {
      env: {
        KDP_S3_ENDPOINT: 'http://127.0.0.1:1',
        AWS_REGION: 'us-east-1',
        KDP_S3_FORCE_PATH_STYLE: 'true',
        KDP_S3_SSE: 'AES256',
      },
      // The explicit endpoint replaces the environment's unreachable one.
      s3: { endpoint: inject('motoEndpoint'), credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    })
    try {
      expect(sink).toBeInstanceOf(S3Sink)
      expect(sink.url).toBe(`s3://${bucket}/from-env`)
      await sink.put('k', Buffer.from('via env'), { contentType: 'text/plain' })
      expect((await sink.get('k')).toString()).toBe('via env')
      expect(await sink.list()).toEqual(['k'])
    } finally {
      await sink.close()
    }
  })

  it('throws for a bad URL or bad environment before connecting to anything', () => {
    expect(() => openSink('http://example.com')).toThrow(InvalidSinkUrlError)
    expect(() => openSink('s3://bucket', { env: { KDP_S3_SSE: 'none' } })).toThrow(/KDP_S3_SSE/)
    expect(() => openSink('s3://bucket', { s3: { partSize: 1 } })).toThrow(/partSize/)
  })
})
