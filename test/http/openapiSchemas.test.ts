import { isRight } from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src/http/errors.js'
import { ConfigChange, HistoryPoint, NodeRemoved, StreamSnapshot } from '../../src/http/live/shapes.js'
import { openApiDocument } from '../../src/http/openapi.js'
import { type SchemaName, schemas } from '../../src/http/openapiSchemas.js'
import { Health, Placement } from '../../src/http/routes/cluster.js'
import { LagTotals, PartitionLag, TopicLag } from '../../src/http/routes/lag.js'
import { TopicEntry } from '../../src/http/routes/topics.js'
import { ScalingRecommendation } from '../../src/processes/scaler/commands.js'
import {
  decodeScalerConfigFields,
  defaultScalerConfig,
  ScalerConfig,
  ScalerConfigFields,
} from '../../src/processes/scaler/config.js'
import { FeedEvent } from '../../src/processes/state/eventFeed.js'
import { DrainStatus, ProcessStatus, ReportedNode } from '../../src/processes/state/status.js'
import {
  KafkaTopicName,
  Rotation,
  SinkSpec,
  TimeSource,
  TopicConfig,
  TopicConfigFields,
} from '../../src/processes/state/topicConfig.js'
import { decodeStrict, FieldError } from '../../src/util/decode.js'
import { newAjv } from '../helpers/ajv.js'
import { node } from './fakes.js'

const ajv = newAjv()
ajv.addVocabulary(['openapi', 'info', 'tags', 'paths', 'components'])
ajv.addSchema(openApiDocument as object, 'openapi.json')

function errors(name: SchemaName, value: unknown): string[] {
  const validate = ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` })
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
}

const stored = {
  version: 1,
  topic: 'tweets',
  revision: 3,
  updatedAt: '2025-01-01T00:00:00.000Z',
  sinks: [{ id: 'main', url: 's3://archive-bucket/tweets' }],
  rotation: { maxAgeMs: 30_000 },
}
const process: ProcessStatus = {
  group: 'kdp-archivers',
  key: 'tweets|main|0',
  partition: 2,
  fencingToken: 7,
  state: 'running',
}

const totals = {
  unreadLag: 5,
  bufferedRecords: 2,
  bufferedBytes: 200,
  committedLag: 7,
  recordsInPerSec: 1.5,
  bytesInPerSec: 150,
  recordsOutPerSec: 1,
  bytesOutPerSec: 40,
}
const partitionLag = {
  topic: 'tweets',
  sink: 'main',
  partition: 0,
  ...totals,
  uploadLatencyMs: null,
  nodeId: 'a',
  lost: false,
}

const feedEvent = {
  offset: 4,
  type: 'config-changed',
  nodeId: 'a',
  at: '2025-01-01T00:00:00.000Z',
  details: { topic: 'tweets', revision: 3 },
}
const point = { at: '2025-01-01T00:00:02.000Z', topics: { tweets: totals } }
const snapshot = {
  nodeId: 'a',
  cluster: 'kdp',
  statusIntervalMs: 2000,
  writable: false,
  nodes: [node('a')],
  configs: [stored],
  events: [feedEvent],
  history: [point],
}

/** For each component: values its codec decodes, and values it refuses (missing field, bad pattern...). */
const cases: Array<{ name: SchemaName; codec: t.Any; valid: unknown[]; invalid: unknown[] }> = [
  {
    name: 'TopicConfigFields',
    codec: TopicConfigFields,
    valid: [{}, { parallelism: 256, time: { field: '$.created_at', format: 'iso' }, sortBy: '$.list[0]' }],
    invalid: [
      { parallelism: 0 },
      { parallelism: 257 },
      { parallelism: 1.5 },
      { pathTemplate: ' \t' },
      { sinks: [{ id: 'Main Sink', url: 's3://archive-bucket/x' }] },
      { sinks: [{ id: 'main', url: 'http://example.com' }] },
      { sinks: [{ url: 's3://archive-bucket/x' }] },
      { dlqTopic: '..' },
      { sortBy: '$' },
      { format: 'csv' },
      { colour: 'red' },
      { time: { offset: 1 } },
      { rotation: { maxBytes: '1' } },
    ],
  },
  {
    name: 'TopicConfig',
    codec: TopicConfig,
    valid: [stored],
    invalid: [
      { ...stored, revision: undefined },
      { ...stored, revision: 0 },
      { ...stored, version: 2 },
      { ...stored, updatedAt: 'yesterday' },
      { ...stored, topic: 'a b' },
    ],
  },
  { name: 'SinkSpec', codec: SinkSpec, valid: [{ id: 'a', url: 'file:///x' }], invalid: [{ id: 'a' }] },
  { name: 'TimeSource', codec: TimeSource, valid: [{}], invalid: [{ granularity: 'week' }] },
  { name: 'Rotation', codec: Rotation, valid: [{ maxAgeMs: null }], invalid: [{ maxSpanMs: -1 }] },
  { name: 'TopicName', codec: KafkaTopicName, valid: ['a.b_c-1'], invalid: ['.', '', 'x'.repeat(250)] },
  {
    name: 'TopicEntry',
    codec: TopicEntry,
    valid: [
      { topic: 'raw', config: null },
      { topic: 'tweets', config: stored },
    ],
    invalid: [{ topic: 'raw' }, { topic: 'raw', config: {} }],
  },
  {
    name: 'NodeStatus',
    codec: ReportedNode,
    valid: [
      node('a'),
      node('b', { lost: true, httpAddress: 'http://h:1', processes: [{ ...process, revision: 3 }] }),
    ],
    invalid: [
      { ...node('a'), lost: undefined },
      { ...node('a'), pid: 1.5 },
      { ...node('a'), processes: [{ ...process, state: 'sleeping' }] },
    ],
  },
  {
    name: 'ProcessStatus',
    codec: ProcessStatus,
    valid: [process, { ...process, revision: 1 }],
    invalid: [
      { ...process, partition: -1 },
      { ...process, key: undefined },
      { ...process, extra: 1 },
    ],
  },
  {
    name: 'Placement',
    codec: Placement,
    valid: [{ nodeId: 'a', lost: false, ...process }],
    invalid: [
      { nodeId: 'a', ...process },
      { nodeId: 'a', lost: false, ...process, revision: 3 },
    ],
  },
  {
    name: 'Health',
    codec: Health,
    valid: [{ status: 'ok', nodeId: 'a' }],
    invalid: [{ status: 'ko', nodeId: 'a' }],
  },
  {
    name: 'Error',
    codec: ApiError,
    valid: [
      { error: 'not_found', message: 'm' },
      { error: 'invalid_body', message: 'm', fields: [{ path: 'a.0', message: 'bad' }] },
    ],
    invalid: [
      { error: 'teapot', message: 'm' },
      { error: 'invalid_body', message: 'm', fields: [{ path: 'a' }] },
    ],
  },
  {
    name: 'LagTotals',
    codec: LagTotals,
    valid: [totals],
    invalid: [
      { ...totals, unreadLag: -1 },
      { ...totals, committedLag: undefined },
    ],
  },
  {
    name: 'PartitionLag',
    codec: PartitionLag,
    valid: [partitionLag, { ...partitionLag, uploadLatencyMs: 12.5, lost: true }],
    invalid: [
      { ...partitionLag, nodeId: undefined },
      { ...partitionLag, partition: 1.5 },
    ],
  },
  {
    name: 'TopicLag',
    codec: TopicLag,
    valid: [
      { topic: 'tweets', total: totals, sinks: [{ sink: 'main', ...totals }], partitions: [partitionLag] },
      { topic: 'quiet', total: totals, sinks: [], partitions: [] },
    ],
    invalid: [
      { topic: 'a b', total: totals, sinks: [], partitions: [] },
      { topic: 'tweets', total: totals, sinks: [{ ...totals }], partitions: [] },
    ],
  },
  {
    name: 'FeedEvent',
    codec: FeedEvent,
    valid: [feedEvent],
    invalid: [
      { ...feedEvent, offset: -1 },
      { ...feedEvent, details: undefined },
    ],
  },
  {
    name: 'HistoryPoint',
    codec: HistoryPoint,
    valid: [point, { at: point.at, topics: {} }],
    invalid: [{ at: point.at }, { at: point.at, topics: { tweets: { ...totals, unreadLag: -1 } } }],
  },
  {
    name: 'StreamSnapshot',
    codec: StreamSnapshot,
    valid: [snapshot],
    invalid: [
      { ...snapshot, statusIntervalMs: 0 },
      { ...snapshot, writable: undefined },
      { ...snapshot, events: [{ ...feedEvent, at: 1 }] },
    ],
  },
  {
    name: 'ConfigChange',
    codec: ConfigChange,
    valid: [
      { topic: 'tweets', config: stored },
      { topic: 'tweets', config: null },
    ],
    invalid: [{ topic: 'tweets' }, { topic: 'tweets', config: {} }],
  },
  { name: 'NodeRemoved', codec: NodeRemoved, valid: [{ nodeId: 'a' }], invalid: [{}, { nodeId: 1 }] },
  { name: 'FieldError', codec: FieldError, valid: [{ path: '', message: 'm' }], invalid: [{ message: 'm' }] },
  {
    name: 'DrainStatus',
    codec: DrainStatus,
    valid: [
      { requestId: 'r', state: 'draining', since: '2025-01-01T00:00:00.000Z', reReadRecords: null },
      { requestId: 'r', state: 'drained', since: '2025-01-01T00:00:00.000Z', reReadRecords: 0 },
    ],
    invalid: [
      { requestId: 'r', state: 'gone', since: '', reReadRecords: null },
      { requestId: 'r', state: 'drained', since: '', reReadRecords: -1 },
    ],
  },
  {
    name: 'ScalerConfigFields',
    codec: ScalerConfigFields,
    valid: [{}, { mode: 'recommend', minNodes: 2, maxNodes: 4, intervalMs: 1000, scaleInCooldownMs: 0 }],
    invalid: [
      { mode: 'sometimes' },
      { minNodes: 0 },
      { intervalMs: 100 },
      { scaleOutCooldownMs: -1 },
      { maxStepOut: 1.5 },
      { cpuScaleOutPercent: 0 },
      { colour: 'red' },
    ],
  },
  {
    name: 'ScalerConfig',
    codec: ScalerConfig,
    valid: [
      defaultScalerConfig,
      { ...defaultScalerConfig, revision: 4, updatedAt: '2025-01-01T00:00:00.000Z' },
    ],
    invalid: [
      { ...defaultScalerConfig, version: 2 },
      { ...defaultScalerConfig, revision: -1 },
    ],
  },
  {
    name: 'ScalingRecommendation',
    codec: ScalingRecommendation,
    valid: [
      {
        recommendedReplicas: 3,
        currentReplicas: 2,
        action: 'out',
        reason: 'lag grew',
        mode: 'auto',
        actsOnAws: true,
        minReplicas: 1,
        maxReplicas: 5,
        warnings: ['at max'],
        decidedAt: null,
        scalerNode: null,
      },
    ],
    invalid: [{ recommendedReplicas: -1 }, { recommendedReplicas: 1, action: 'sideways' }],
  },
]

describe('the component schemas and their codecs', () => {
  it('have a case here for every component', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(schemas).sort())
  })

  it.each(cases)(
    '$name: what the codec decodes, encoded, validates against the schema',
    ({ name, codec, valid }) => {
      for (const value of valid) {
        const decoded: unknown = decodeStrict(codec, value, name)
        expect(errors(name, codec.encode(decoded)), JSON.stringify(value)).toEqual([])
      }
    },
  )

  it.each(cases)('$name: what the codec refuses, the schema refuses too', ({ name, codec, invalid }) => {
    for (const value of invalid) {
      expect(() => decodeStrict(codec, value, name), JSON.stringify(value)).toThrow()
      expect(errors(name, value), JSON.stringify(value)).not.toEqual([])
    }
  })

  it('are looser than the decoder only where a rule has no keyword, and say so in their description', () => {
    const decodes = (value: unknown) => isRight(TopicConfigFields.decode(value))
    // The sinks' URL rules and the IANA zone list are checks, not keywords.
    for (const value of [{ sinks: [{ id: 'a', url: 's3://ab' }] }, { time: { timeZone: 'Mars/Olympus' } }]) {
      expect(decodes(value)).toBe(false)
      expect(errors('TopicConfigFields', value)).toEqual([])
    }
    const sinkUrl = JSON.stringify(schemas.SinkSpec)
    expect(sinkUrl).toContain('checked as the sinks check it')
    expect(JSON.stringify(schemas.TimeSource)).toContain('IANA time zone')
    // Rules between scaler fields are checks too; each field's description states its rule.
    for (const [value, field, words] of [
      [{ minNodes: 5, maxNodes: 2 }, 'minNodes', 'at most `maxNodes`'],
      [{ calmLag: 20, targetLag: 10 }, 'calmLag', 'At most `targetLag`'],
      [{ cpuScaleInPercent: 90, cpuScaleOutPercent: 80 }, 'cpuScaleInPercent', 'Below `cpuScaleOutPercent`'],
    ] as const) {
      expect(isRight(ScalerConfigFields.decode(value))).toBe(true)
      expect(errors('ScalerConfigFields', value)).toEqual([])
      expect(() => decodeScalerConfigFields(value)).toThrow(field)
      expect(JSON.stringify(schemas.ScalerConfigFields)).toContain(words)
    }
  })
})
