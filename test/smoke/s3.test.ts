import { randomBytes } from 'node:crypto'
import { CreateBucketCommand, GetObjectCommand, ListPartsCommand } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { describe, expect, it } from 'vitest'
import { motoS3 } from '../helpers/aws.js'
import { uniqueName } from '../helpers/names.js'

describe('S3 on moto', () => {
  it('reads back a multipart upload byte-identical', async () => {
    const s3 = motoS3()
    const Bucket = uniqueName('smoke-bucket')
    await s3.send(new CreateBucketCommand({ Bucket }))
    const partSize = 5 * 1024 * 1024
    const body = randomBytes(partSize * 2 + 12345)
    const parts: number[] = []
    const upload = new Upload({
      client: s3,
      params: { Bucket, Key: 'big.bin', Body: body },
      partSize,
      queueSize: 2,
    })
    upload.on('httpUploadProgress', (p) => {
      if (p.part !== undefined) parts.push(p.part)
    })
    await upload.done()
    expect(new Set(parts).size).toBe(3)

    const object = await s3.send(new GetObjectCommand({ Bucket, Key: 'big.bin' }))
    const read = Buffer.from(await object.Body!.transformToByteArray())
    expect(read.length).toBe(body.length)
    expect(read.equals(body)).toBe(true)
    // A multipart object's ETag carries the part count after a dash.
    expect(object.ETag).toMatch(/-3"?$/)
    s3.destroy()
  })

  it('rejects a part list request for an upload that does not exist (the emulator is a real S3 API)', async () => {
    const s3 = motoS3()
    const Bucket = uniqueName('smoke-bucket')
    await s3.send(new CreateBucketCommand({ Bucket }))
    await expect(
      s3.send(new ListPartsCommand({ Bucket, Key: 'nope', UploadId: 'missing' })),
    ).rejects.toThrow()
    s3.destroy()
  })
})
