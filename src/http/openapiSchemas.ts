/** JSON Schemas (OpenAPI 3.1 dialect) of what the API reads and answers. Kept in step with topicConfig.ts. */

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json }

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` })
const jsonPath = { type: 'string', pattern: '^\\$(\\.[A-Za-z_][A-Za-z0-9_-]*|\\[\\d+\\])+$' }
const positiveInt = (fallback: number, description?: string): Json => ({
  type: 'integer',
  minimum: 1,
  default: fallback,
  ...(description ? { description } : {}),
})

const fieldProperties: { readonly [name: string]: Json } = {
  sinks: { type: 'array', items: ref('SinkSpec'), default: [] },
  pathTemplate: {
    type: 'string',
    minLength: 1,
    default: 'dt={date}/hr={hour}',
    description:
      'Output path: {date} {hour} {minute} {yyyy} {MM} {dd} {HH} {mm} and {$.field} values of the records.',
  },
  time: ref('TimeSource'),
  rotation: ref('Rotation'),
  format: { enum: ['jsonl', 'raw'], default: 'jsonl' },
  compression: { enum: ['gzip', 'none'], default: 'gzip' },
  sortBy: { oneOf: [jsonPath, { type: 'null' }], default: null },
  maxMessagesInFlight: positiveInt(10_000),
  maxBytesInFlight: positiveInt(32 * 1024 * 1024),
  parallelism: { type: 'integer', minimum: 1, maximum: 256, default: 1 },
  badRecordPolicy: { enum: ['dlq', 'skip', 'fail'], default: 'dlq' },
  dlqTopic: {
    oneOf: [{ type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$' }, { type: 'null' }],
    default: null,
    description: 'Dead-letter topic; null: `<topic>.dlq`.',
  },
  paused: { type: 'boolean', default: false },
}

const topicConfigFields: Json = {
  type: 'object',
  additionalProperties: false,
  description:
    'The fields a user sets. Every field is optional and takes its default; unknown fields are refused.',
  properties: fieldProperties,
}

const nodeStatus: Json = {
  type: 'object',
  required: ['nodeId', 'host', 'pid', 'httpAddress', 'startedAt', 'updatedAt', 'processes', 'lag', 'lost'],
  properties: {
    nodeId: { type: 'string' },
    host: { type: 'string' },
    pid: { type: 'integer' },
    httpAddress: { type: ['string', 'null'], description: '`http://host:port` of its HTTP API, or null.' },
    startedAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    cpuPercent: { type: 'number' },
    rssBytes: { type: 'integer' },
    heapUsedBytes: { type: 'integer' },
    networkBytesPerSec: {
      type: 'object',
      properties: { received: { type: 'number' }, sent: { type: 'number' } },
    },
    processes: { type: 'array', items: ref('ProcessStatus') },
    lag: { type: 'integer', description: 'Consumer lag (records) of the archivers this node runs.' },
    warnings: { type: 'array', items: { type: 'string' } },
    lost: { type: 'boolean', description: 'Silent for more than 3 status intervals.' },
  },
}

const processStatus: Json = {
  type: 'object',
  required: ['group', 'key', 'partition', 'fencingToken', 'state'],
  properties: {
    group: { type: 'string' },
    key: { type: 'string' },
    partition: { type: 'integer' },
    fencingToken: { type: 'integer' },
    state: { enum: ['starting', 'running', 'stopping'] },
  },
}

export const schemas: { readonly [name: string]: Json } = {
  Error: {
    type: 'object',
    required: ['error', 'message'],
    properties: {
      error: {
        enum: [
          'invalid_topic',
          'invalid_body',
          'bad_request',
          'unauthorized',
          'forbidden',
          'not_found',
          'payload_too_large',
          'unavailable',
          'internal_error',
        ],
      },
      message: { type: 'string' },
      fields: {
        type: 'array',
        items: ref('FieldError'),
        description: 'Every bad field (invalid_topic, invalid_body).',
      },
    },
  },
  FieldError: {
    type: 'object',
    required: ['path', 'message'],
    properties: {
      path: {
        type: 'string',
        description:
          'Dotted path in the body (`rotation.maxBytes`, `sinks.0.url`); `topic` for the URL; empty: the whole body.',
      },
      message: { type: 'string' },
    },
  },
  SinkSpec: {
    type: 'object',
    required: ['id', 'url'],
    properties: {
      id: { type: 'string', pattern: '^[a-z0-9-]{1,40}$' },
      url: { type: 'string', description: '`s3://bucket/prefix` or `file:///absolute/dir`.' },
    },
  },
  TimeSource: {
    type: 'object',
    description: 'Where a record time comes from; missing fields take their defaults.',
    properties: {
      field: {
        oneOf: [jsonPath, { type: 'null' }],
        default: null,
        description: 'JSON path of the record field holding the time; null: the Kafka timestamp.',
      },
      format: { enum: ['epoch-s', 'epoch-ms', 'epoch-ns', 'iso'], default: 'epoch-ms' },
      granularity: { enum: ['minute', 'hour', 'day'], default: 'hour' },
      timeZone: { type: 'string', default: 'UTC', description: 'An IANA time zone.' },
    },
  },
  Rotation: {
    type: 'object',
    description: 'When an open file is closed; missing fields take their defaults.',
    properties: {
      maxBytes: positiveInt(64 * 1024 * 1024),
      maxRecords: positiveInt(100_000),
      maxSpanMs: positiveInt(3_600_000, 'Largest span of record times in one file.'),
      maxAgeMs: {
        oneOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }],
        default: null,
        description: 'Wall-clock age of an open file; breaks exactly-once file contents.',
      },
    },
  },
  TopicConfigFields: topicConfigFields,
  TopicConfig: {
    description: 'A stored config: every field (defaults filled in) plus what the store adds.',
    allOf: [
      {
        type: 'object',
        required: ['version', 'topic', 'revision', 'updatedAt'],
        properties: {
          version: { const: 1 },
          topic: { type: 'string' },
          revision: { type: 'integer', description: 'Grows with every write (a restart is a write).' },
          updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      { type: 'object', properties: fieldProperties },
    ],
  },
  TopicEntry: {
    type: 'object',
    required: ['topic', 'config'],
    properties: {
      topic: { type: 'string' },
      config: {
        oneOf: [ref('TopicConfig'), { type: 'null' }],
        description: 'null: the topic exists in Kafka but has no config.',
      },
    },
  },
  NodeStatus: nodeStatus,
  ProcessStatus: processStatus,
  Placement: {
    type: 'object',
    required: ['nodeId', 'lost', 'group', 'key', 'partition', 'fencingToken', 'state'],
    properties: {
      nodeId: { type: 'string' },
      lost: { type: 'boolean' },
      group: { type: 'string' },
      key: { type: 'string' },
      partition: { type: 'integer' },
      fencingToken: { type: 'integer' },
      state: { enum: ['starting', 'running', 'stopping'] },
    },
  },
  Health: {
    type: 'object',
    required: ['status', 'nodeId'],
    properties: { status: { const: 'ok' }, nodeId: { type: 'string' } },
  },
}
