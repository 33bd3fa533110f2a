// A sink error that retrying cannot fix (here a real NoSuchBucket from S3 on moto) stops the archiver
// instead of retrying forever, commits nothing, and loses nothing: once fixed, a restart archives all.
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { describe, expect, inject, it } from 'vitest'
import { archiveGroupId } from '../../../src/processes/archiver/index.js'
import { openSink } from '../../../src/sinks/openSink.js'
import type { Sink } from '../../../src/sinks/sink.js'
import { motoS3 } from '../../helpers/aws.js'
import { capturingLogger } from '../../helpers/logs.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { createTopic, kafka, produce, readArchive, runArchiver, s3Options, topicConfig } from './harness.js'

describe('the archiver and permanent sink errors', () => {
  it('stops at NoSuchBucket without retrying, commits nothing, and archives everything once the bucket exists', async () => {
    const topic = uniqueName('nobucket')
    await createTopic(topic, 1)
    await produce(
      topic,
      Array.from({ length: 30 }, (_, i) => ({ value: JSON.stringify({ i }) })),
    )
    const bucket = uniqueName('missing-bucket')
    const cluster = uniqueName('arch')
    const groupId = archiveGroupId(cluster, topic, 'main')
    const config = topicConfig(topic, { pathTemplate: 'all', rotation: { maxRecords: 10 } })
    const logger = capturingLogger()
    const open = (url: string) => openSink(url, s3Options(inject('motoEndpoint')))
    const puts = new Map<string, number>()
    const counting = (url: string): Sink => {
      const inner = open(url)
      return {
        ...inner,
        url: inner.url,
        create: (key, body, metadata, signal) => {
          puts.set(key, (puts.get(key) ?? 0) + 1)
          return inner.create(key, body, metadata, signal)
        },
      }
    }
    const first = runArchiver(config, `s3://${bucket}/raw`, { cluster, open: counting, logger })

    const stopped = await eventually('the archiver gives up', () =>
      logger.lines.find((l) => l.level === 'error' && l.message.includes('cannot succeed by trying again')),
    )
    expect(String(stopped.fields.error)).toContain('NoSuchBucket')
    // It left its consumer group: nothing more is read, so nothing more is tried.
    const admin = kafka.admin()
    await admin.connect()
    try {
      await eventually('the archiver left its group', async () => {
        const { groups } = await admin.describeGroups([groupId])
        return groups[0]?.members.length === 0 ? true : undefined
      })
      // Each file cut before it stopped was tried once, none again.
      expect(puts.size).toBeGreaterThan(0)
      expect([...puts.values()].every((n) => n === 1)).toBe(true)
      expect(first.metrics.uploadFailures).toBe(puts.size)
      expect(first.metrics.recordsArchived).toBe(0)
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] })
      expect(committed[0]?.partitions[0]?.offset).toBe('-1')

      await motoS3().send(new CreateBucketCommand({ Bucket: bucket }))
      await first.stop()
      const second = runArchiver(config, `s3://${bucket}/raw`, { cluster, open })
      await eventually('30 archived', () => (second.metrics.recordsArchived === 30 ? true : undefined))
      const lines = await readArchive(open(`s3://${bucket}/raw`))
      expect(lines.map((l) => (JSON.parse(l.line) as { i: number }).i).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 30 }, (_, i) => i),
      )
    } finally {
      await admin.disconnect()
    }
  })
})
