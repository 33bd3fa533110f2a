// The DistributedProcessing API against the suite's real broker (nodes in this process).
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, inject, it } from 'vitest'
import {
  DistributedProcessing,
  type DistributedProcessingSettings,
  type ProcessContext,
  type ProcessingHandle,
  ProcessSet,
  partitionOfKey,
  silentLogger,
  sleep,
  TopicMismatchError,
  ValidationError,
} from '../../src/index.js'
import { eventually, uniqueName } from '../helpers/names.js'

const brokers = inject('kafkaBrokers').split(',')
const fast = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxStopMs: 1000, leaseMarginMs: 500 }
const handles: ProcessingHandle[] = []

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()))
})

function node(settings: Partial<DistributedProcessingSettings> & { topic: string }): DistributedProcessing {
  return new DistributedProcessing({ brokers, partitions: 8, logger: silentLogger, ...fast, ...settings })
}

/** A process that records its starts and stops in `log` and runs until aborted. */
function recorder(log: string[], name: string) {
  return async (ctx: ProcessContext) => {
    log.push(`start ${name} ${ctx.fencingToken}`)
    while (!ctx.signal.aborted) await sleep(50, ctx.signal)
    log.push(`stop ${name}`)
  }
}

describe('DistributedProcessing settings', () => {
  it('rejects bad settings with one error naming every bad field', () => {
    let error: unknown
    try {
      new DistributedProcessing({ brokers: ['nohost'], partitions: 0, sessionTimeoutMs: -5, topic: '' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    const paths = (error as ValidationError).errors.map((e) => e.path).sort()
    expect(paths).toEqual(['brokers.0', 'partitions', 'sessionTimeoutMs', 'topic'])
  })

  it('refuses an existing technical topic with another partition count', async () => {
    const topic = uniqueName('tech')
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
    await admin.disconnect()
    await expect(node({ topic, partitions: 8 }).start(uniqueName('g'), [])).rejects.toBeInstanceOf(
      TopicMismatchError,
    )
  })

  it('rejects a list name that cannot be a consumer group', async () => {
    await expect(node({ topic: uniqueName('tech') }).start('no spaces allowed', [])).rejects.toThrow(
      /invalid process list name/,
    )
  })
})

describe('DistributedProcessing.start', () => {
  it('runs a static list once over two nodes, and the survivor takes over after a graceful stop', async () => {
    const topic = uniqueName('tech')
    const group = uniqueName('g')
    const log: string[] = []
    const list = Array.from({ length: 12 }, (_, i) => recorder(log, String(i)))
    const a = await node({ topic, nodeId: 'a' }).start(group, list)
    const b = await node({ topic, nodeId: 'b' }).start(group, list)
    handles.push(a, b)
    await eventually('12 processes split over both nodes', () => {
      const ra = a.running().length
      const rb = b.running().length
      return ra > 0 && rb > 0 && ra + rb === 12 ? true : undefined
    })
    const keys = [...a.running(), ...b.running()].map((r) => r.key).sort()
    expect(new Set(keys).size).toBe(12)
    const tokensOnA = new Map(a.running().map((r) => [r.key, r.fencingToken]))
    await a.stop()
    await eventually('b runs all 12', () => (b.running().length === 12 ? true : undefined))
    // The new owner of a moved process holds a larger fencing token than the old one did.
    for (const r of b.running()) {
      const old = tokensOnA.get(r.key)
      if (old !== undefined) expect(r.fencingToken).toBeGreaterThan(old)
    }
  })

  it('adding or removing a key of a dynamic set starts or stops only that process', async () => {
    const topic = uniqueName('tech')
    const group = uniqueName('g')
    const log: string[] = []
    const set = new ProcessSet(
      Array.from({ length: 10 }, (_, i) => [`job-${i}`, recorder(log, `job-${i}`)] as const),
    )
    const setB = new ProcessSet(set.current())
    const a = await node({ topic, nodeId: 'a' }).start(group, set)
    const b = await node({ topic, nodeId: 'b' }).start(group, setB)
    handles.push(a, b)
    const all = () => [...a.running(), ...b.running()]
    await eventually('10 jobs running once', () =>
      all().length === 10 && new Set(all().map((r) => r.key)).size === 10 ? true : undefined,
    )
    await sleep(1500)
    const before = log.length
    const added = recorder(log, 'job-new')
    set.set('job-new', added)
    setB.set('job-new', added)
    await eventually('job-new running', () => (all().some((r) => r.key === 'job-new') ? true : undefined))
    set.delete('job-3')
    setB.delete('job-3')
    await eventually('job-3 gone', () => (all().some((r) => r.key === 'job-3') ? undefined : true))
    expect(log.slice(before).sort()).toEqual(
      [`start job-new ${all().find((r) => r.key === 'job-new')!.fencingToken}`, 'stop job-3'].sort(),
    )
    expect(all().find((r) => r.key === 'job-new')!.partition).toBe(partitionOfKey('job-new', 8))
  })

  it('reports a failed process, and the "stop" failure policy stops the handle with the error', async () => {
    const topic = uniqueName('tech')
    const failing = async () => {
      await sleep(100)
      throw new Error('boom')
    }
    const seen: string[] = []
    const ignoring = await node({ topic }).start(uniqueName('g'), [failing])
    handles.push(ignoring)
    ignoring.onFailure((f) => seen.push(`${f.key}: ${(f.error as Error).message}`))
    await eventually('the failure reported', () => (seen.length > 0 ? true : undefined))
    expect(seen).toEqual(['0: boom'])
    expect(ignoring.state).toBe('running')

    const stopping = await node({ topic }).start(uniqueName('g'), [failing], { failurePolicy: 'stop' })
    expect(stopping.state).toBe('running')
    await expect(stopping.done).rejects.toThrow('boom')
    expect(stopping.state).toBe('failed')
    expect(stopping.running()).toEqual([])

    const stopped = ignoring.stop()
    expect(ignoring.state).toBe('stopping')
    await stopped
    expect(ignoring.state).toBe('stopped')
    await expect(ignoring.done).resolves.toBeUndefined()
  })
})
