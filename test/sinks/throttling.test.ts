// S3 throttling (503 SlowDown) answered with fewer puts at once: a throttling proxy in front of moto.
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { AdaptiveLimit } from '../../src/sinks/adaptiveLimit.js'
import { SinkError } from '../../src/sinks/errors.js'
import { S3Sink } from '../../src/sinks/s3Sink.js'
import { motoS3 } from '../helpers/aws.js'
import { uniqueName } from '../helpers/names.js'
import { startThrottlingProxy } from '../helpers/throttlingProxy.js'

describe('AdaptiveLimit', () => {
  const throttle = new Error('SlowDown')
  const isThrottle = (e: unknown) => e === throttle

  it('halves once per round of throttles, grows by one after `limit` successes, never below min', async () => {
    const limit = new AdaptiveLimit(8)
    // Eight at once, all throttled: one round, one halving.
    await Promise.allSettled(
      Array.from({ length: 8 }, () => limit.run(() => Promise.reject(throttle), isThrottle)),
    )
    expect(limit.limit).toBe(4)
    expect(limit.throttles).toBe(8)
    // The next round (started after the decrease) halves again.
    await Promise.allSettled(
      Array.from({ length: 4 }, () => limit.run(() => Promise.reject(throttle), isThrottle)),
    )
    expect(limit.limit).toBe(2)
    for (let i = 0; i < 2; i++) await limit.run(async () => {}, isThrottle)
    expect(limit.limit).toBe(3)
    for (let i = 0; i < 5; i++) await limit.run(() => Promise.reject(throttle), isThrottle).catch(() => {})
    expect(limit.limit).toBe(1)
  })

  it('never runs more than the limit at once', async () => {
    const limit = new AdaptiveLimit(3)
    let running = 0
    let most = 0
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limit.run(async () => {
          running++
          most = Math.max(most, running)
          await new Promise((r) => setImmediate(r))
          running--
        }, isThrottle),
      ),
    )
    expect(most).toBe(3)
  })
})

describe('S3Sink under throttling', () => {
  const s3 = motoS3()
  afterAll(() => s3.destroy())

  it('answers 503 SlowDown with fewer puts at once and stores every object once', async () => {
    const bucket = uniqueName('kdp-slowdown')
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    const cap = 2
    const proxy = await startThrottlingProxy(inject('motoEndpoint'), cap)
    const sink = new S3Sink(
      { bucket, prefix: 't' },
      {
        endpoint: proxy.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxConcurrentPuts: 16,
        maxAttempts: 1,
      },
    )
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`)
      let failures = 0
      let lowest = sink.concurrency.limit
      // As the archiver does: a failed put is retriable and tried again.
      await Promise.all(
        keys.map(async (key) => {
          for (;;) {
            try {
              await sink.create(key, Buffer.from(key), { contentType: 'text/plain' })
              return
            } catch (error) {
              expect(error).toBeInstanceOf(SinkError)
              expect((error as SinkError).retriable).toBe(true)
              failures++
              lowest = Math.min(lowest, sink.concurrency.limit)
            }
          }
        }),
      )
      expect(await sink.list()).toEqual(keys)
      expect(proxy.counts.throttled).toBeGreaterThan(0)
      // Every throttle was seen and answered: the limit went down to what the store takes.
      expect(sink.concurrency.throttles).toBe(proxy.counts.throttled)
      expect(failures).toBe(proxy.counts.throttled)
      // Fewer puts at once after the throttles (the SDK's adaptive retry mode also slows its rate).
      expect(lowest).toBeLessThanOrEqual(16 / 2)
      expect(proxy.counts.throttled).toBeLessThan(keys.length)
    } finally {
      await sink.close()
      await proxy.close()
    }
  })
})
