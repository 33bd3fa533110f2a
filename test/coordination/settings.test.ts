import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import {
  type DistributedProcessingSettings,
  resolveSettings,
  SettingsCodec,
} from '../../src/coordination/settings.js'
import { ValidationError } from '../../src/util/decode.js'

function validationError(input: unknown): ValidationError {
  try {
    resolveSettings(input as DistributedProcessingSettings)
  } catch (error) {
    if (error instanceof ValidationError) return error
    throw error
  }
  throw new Error(`no ValidationError for ${JSON.stringify(input)}`)
}

const paths = (error: ValidationError): string[] => error.errors.map((e) => e.path).sort()

describe('resolveSettings', () => {
  it('fills in every default and derives the lease and the handover delay', () => {
    const s = resolveSettings({ brokers: ['127.0.0.1:9092'] })
    expect(s).toMatchObject({
      brokers: ['127.0.0.1:9092'],
      topic: 'kdp-processes',
      partitions: 32,
      replicationFactor: undefined,
      clientId: 'kdp',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 60_000,
      heartbeatIntervalMs: 1000,
      maxStopMs: 3000,
      leaseMarginMs: 1000,
      leaseMs: 6000,
      rebalanceLeaseMs: 56_000,
      clockJumpMs: 500,
      handoverDelayMs: 4000,
      kafka: undefined,
    })
    const escaped = hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    expect(s.nodeId).toMatch(new RegExp(`^${escaped}-${process.pid}-[0-9a-f]{6}$`))
  })

  it('gives every node its own default node id', () => {
    const a = resolveSettings({ brokers: ['b:1'] })
    const b = resolveSettings({ brokers: ['b:1'] })
    expect(a.nodeId).not.toBe(b.nodeId)
  })

  it('keeps the values it is given', () => {
    const kafka = { connectionTimeoutMs: 5000 }
    const s = resolveSettings({
      brokers: ['a:1', 'b:2'],
      topic: 'my-topic',
      partitions: 7,
      replicationFactor: 2,
      clientId: 'me',
      nodeId: 'node-x',
      sessionTimeoutMs: 20_000,
      rebalanceTimeoutMs: 30_000,
      heartbeatIntervalMs: 2000,
      maxStopMs: 5000,
      leaseMarginMs: 500,
      kafka,
    })
    expect(s).toMatchObject({
      brokers: ['a:1', 'b:2'],
      topic: 'my-topic',
      partitions: 7,
      replicationFactor: 2,
      clientId: 'me',
      nodeId: 'node-x',
      sessionTimeoutMs: 20_000,
      rebalanceTimeoutMs: 30_000,
      heartbeatIntervalMs: 2000,
      maxStopMs: 5000,
      leaseMarginMs: 500,
      // min(20 000, 30 000) − 5000 − 500
      leaseMs: 14_500,
      handoverDelayMs: 5500,
    })
    expect(s.kafka).toBe(kafka)
  })

  it('defaults the rebalance timeout to max(60 s, session) and the heartbeat to min(1000, session / 6)', () => {
    const s = resolveSettings({
      brokers: ['b:1'],
      sessionTimeoutMs: 4800,
      maxStopMs: 1000,
      leaseMarginMs: 200,
    })
    expect(s.rebalanceTimeoutMs).toBe(60_000)
    expect(resolveSettings({ brokers: ['b:1'], sessionTimeoutMs: 90_000 }).rebalanceTimeoutMs).toBe(90_000)
    expect(s.heartbeatIntervalMs).toBe(800)
    expect(s.leaseMs).toBe(3600)
    expect(s.rebalanceLeaseMs).toBe(58_800)
    expect(s.handoverDelayMs).toBe(1200)
    expect(resolveSettings({ brokers: ['b:1'], sessionTimeoutMs: 30_000 }).heartbeatIntervalMs).toBe(1000)
  })

  it('takes the lease from the shorter of the session and the rebalance timeout', () => {
    const s = resolveSettings({ brokers: ['b:1'], sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 8000 })
    expect(s.leaseMs).toBe(4000)
  })

  it('throws one ValidationError naming every bad field', () => {
    const error = validationError({ brokers: ['no-port', 'ok:9092'], partitions: 0, sessionTimeoutMs: 500 })
    expect(error.what).toBe('DistributedProcessing settings')
    expect(paths(error)).toEqual(['brokers.0', 'partitions', 'sessionTimeoutMs'])
    for (const path of ['brokers.0', 'partitions', 'sessionTimeoutMs']) expect(error.message).toContain(path)
  })

  it('names the field of each bad optional value', () => {
    const error = validationError({
      brokers: ['b:1'],
      topic: '  ',
      replicationFactor: 1.5,
      clientId: 3,
      nodeId: '',
      rebalanceTimeoutMs: 999,
      heartbeatIntervalMs: 10,
      maxStopMs: 0,
      leaseMarginMs: -1,
    })
    expect(paths(error)).toEqual(
      [
        'topic',
        'replicationFactor',
        'clientId',
        'nodeId',
        'rebalanceTimeoutMs',
        'heartbeatIntervalMs',
        'maxStopMs',
        'leaseMarginMs',
      ].sort(),
    )
  })

  it('requires a non-empty list of brokers', () => {
    expect(paths(validationError({ brokers: [] }))).toEqual(['brokers'])
    expect(paths(validationError({}))).toEqual(['brokers'])
    expect(paths(validationError({ brokers: 'b:1' }))).toEqual(['brokers'])
  })

  it('accepts host:port brokers and rejects others', () => {
    const ok = (b: string): boolean => SettingsCodec.is({ brokers: [b] })
    expect(ok('localhost:9092')).toBe(true)
    expect(ok('10.0.0.1:1')).toBe(true)
    expect(ok('localhost')).toBe(false)
    expect(ok('localhost:')).toBe(false)
    expect(ok('local host:9092')).toBe(false)
    expect(ok('host:123456')).toBe(false)
  })

  it('rejects a heartbeat longer than a third of the session', () => {
    // 3334 × 3 > 10 000; the lease (10 000 − 1 − 0) is long enough for two heartbeats.
    const error = validationError({
      brokers: ['b:1'],
      heartbeatIntervalMs: 3334,
      maxStopMs: 1,
      leaseMarginMs: 0,
    })
    expect(paths(error)).toEqual(['heartbeatIntervalMs'])
    expect(
      resolveSettings({ brokers: ['b:1'], heartbeatIntervalMs: 3333, maxStopMs: 1, leaseMarginMs: 0 })
        .heartbeatIntervalMs,
    ).toBe(3333)
  })

  it('rejects timings that leave no room for a lease of two heartbeats', () => {
    // lease = 5000 − 3000 − 1000 = 1000 < 2 × 833
    const error = validationError({ brokers: ['b:1'], sessionTimeoutMs: 5000 })
    expect(paths(error)).toEqual(['maxStopMs'])
    expect(error.errors[0]!.message).toContain('1000')
    // A negative lease too.
    expect(paths(validationError({ brokers: ['b:1'], maxStopMs: 20_000 }))).toEqual(['maxStopMs'])
    // Exactly two heartbeats is enough: 10 000 − 7000 − 1000 = 2000 = 2 × 1000.
    expect(resolveSettings({ brokers: ['b:1'], maxStopMs: 7000 }).leaseMs).toBe(2000)
  })

  it('reports both cross-field problems at once', () => {
    const error = validationError({ brokers: ['b:1'], heartbeatIntervalMs: 4000 })
    expect(paths(error)).toEqual(['heartbeatIntervalMs', 'maxStopMs'])
  })
})
