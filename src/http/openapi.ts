import { type Json, schemaRef as ref, schemas } from './openapiSchemas.js'

/**
 * The OpenAPI 3.1 description of the API, served at `GET /openapi.json`. The paths are written by
 * hand; every schema they point at is derived from a codec (openapiSchemas.ts).
 */

const json = (schema: Json): Json => ({ 'application/json': { schema } })
const response = (description: string, schema?: Json): Json =>
  schema === undefined ? { description } : { description, content: json(schema) }
const errorResponse = (name: string): Json => ({ $ref: `#/components/responses/${name}` })

const topicParameter: Json = { $ref: '#/components/parameters/Topic' }
/** Responses every write may give besides its own (any write may carry a body, which is read). */
const writeErrors: { readonly [status: string]: Json } = {
  '401': errorResponse('Unauthorized'),
  '403': errorResponse('Forbidden'),
  '413': errorResponse('PayloadTooLarge'),
  '503': errorResponse('Unavailable'),
}
const secured: Json = [{ bearerAuth: [] }]

function topicAction(summary: string, description: string): Json {
  return {
    post: {
      summary,
      description,
      operationId: `${summary.split(' ')[0]?.toLowerCase() ?? 'action'}Topic`,
      tags: ['topics'],
      security: secured,
      parameters: [topicParameter],
      responses: {
        '200': response('The config as stored.', ref('TopicConfig')),
        '400': errorResponse('InvalidRequest'),
        '404': errorResponse('NotFound'),
        ...writeErrors,
      },
    },
  }
}

export const openApiDocument: Json = {
  openapi: '3.1.0',
  info: {
    title: 'kdp node API',
    version: '1',
    description:
      'Served by every node of a kdp cluster; any node answers for the whole cluster. Reads are open; writes ' +
      'need `Authorization: Bearer <token>` and are refused (403) on a node without a configured token. ' +
      'Every error answers `{ error, message, fields? }`.',
  },
  tags: [{ name: 'topics' }, { name: 'cluster' }, { name: 'scaling' }, { name: 'meta' }],
  paths: {
    '/health': {
      get: {
        summary: 'Liveness of this node',
        operationId: 'health',
        tags: ['meta'],
        responses: { '200': response('The node answers.', ref('Health')) },
      },
    },
    '/topics': {
      get: {
        summary: 'Every configured topic, and the Kafka topics without a config',
        operationId: 'listTopics',
        tags: ['topics'],
        responses: {
          '200': response('Sorted by topic; `config` is null for a topic that has none.', {
            type: 'array',
            items: ref('TopicEntry'),
          }),
        },
      },
    },
    '/topics/{topic}/config': {
      parameters: [topicParameter],
      get: {
        summary: 'A topic config',
        operationId: 'getTopicConfig',
        tags: ['topics'],
        responses: {
          '200': response('The stored config.', ref('TopicConfig')),
          '400': errorResponse('InvalidTopic'),
          '404': errorResponse('NotFound'),
        },
      },
      put: {
        summary: 'Create or replace a topic config',
        description:
          'Fields not given take their defaults. Answers once this node reads the write back, so a GET ' +
          'right after sees it. Every bad field is listed in one 400.',
        operationId: 'putTopicConfig',
        tags: ['topics'],
        security: secured,
        requestBody: { required: true, content: json(ref('TopicConfigFields')) },
        responses: {
          '200': response('The config as stored.', ref('TopicConfig')),
          '400': errorResponse('InvalidBody'),
          ...writeErrors,
        },
      },
      delete: {
        summary: 'Delete a topic config (its archivers stop)',
        operationId: 'deleteTopicConfig',
        tags: ['topics'],
        security: secured,
        responses: {
          '204': response('Deleted.'),
          '400': errorResponse('InvalidRequest'),
          '404': errorResponse('NotFound'),
          ...writeErrors,
        },
      },
    },
    '/topics/{topic}/pause': topicAction('Pause archiving a topic', 'Sets `paused: true`.'),
    '/topics/{topic}/resume': topicAction('Resume archiving a topic', 'Sets `paused: false`.'),
    '/topics/{topic}/restart': topicAction(
      'Restart the archivers of a topic',
      'Rewrites the config unchanged: its revision grows, which restarts the archivers.',
    ),
    '/topics/{topic}/lag': {
      get: {
        summary: 'The lag of a topic, per partition and in total',
        description:
          'From every node’s last status record (no request to Kafka): unread lag (log end − read position, ' +
          'what scaling decides from), records read but not stored yet, committed lag, and rates over each ' +
          'owner’s last status interval. Each sink reads the topic on its own, so `total` sums over sinks; ' +
          '`sinks` has each one’s sums.',
        operationId: 'getTopicLag',
        tags: ['topics'],
        parameters: [topicParameter],
        responses: {
          '200': response('The lag as the owners last reported it.', ref('TopicLag')),
          '400': errorResponse('InvalidTopic'),
          '404': response('`not_found`: the topic has no config and no node archives it.', ref('Error')),
        },
      },
    },
    '/nodes': {
      get: {
        summary: 'The nodes of the cluster, as they last reported',
        operationId: 'listNodes',
        tags: ['cluster'],
        responses: {
          '200': response('Every node with a status record.', { type: 'array', items: ref('NodeStatus') }),
        },
      },
    },
    '/processes': {
      get: {
        summary: 'Where every process runs',
        operationId: 'listProcesses',
        tags: ['cluster'],
        responses: {
          '200': response('One entry per process instance.', { type: 'array', items: ref('Placement') }),
        },
      },
    },
    '/events': {
      get: {
        summary: 'The latest events of the cluster',
        description:
          'Config changes, discovered topics, process failures, heavy-use warnings, scaling decisions: the ' +
          'last 200 of the events topic, oldest first. The node starts reading the topic on the first ask.',
        operationId: 'listEvents',
        tags: ['cluster'],
        responses: {
          '200': response('Oldest first.', { type: 'array', items: ref('FeedEvent') }),
          '503': {
            description: '`unavailable`: the events topic cannot be read now (Kafka unreachable); retry.',
            headers: { 'Retry-After': { schema: { type: 'integer' } } },
            content: json(ref('Error')),
          },
        },
      },
    },
    '/stream': {
      get: {
        summary: 'Live changes for the dashboard (server-sent events)',
        description:
          'A `text/event-stream` that never ends by itself: first a `snapshot`, then only changes — `node` ' +
          '(a node’s new status, or its going lost), `node-removed`, `config`, `event`, and a `tick` (the ' +
          'ticker point) every status interval, which also tells a page the node still answers. Every ' +
          "event's `data` is one JSON value; `x-sse-events` gives each one's schema. Readable cross-origin " +
          'from the pages of the other nodes of the cluster (CORS, reads only).',
        operationId: 'stream',
        tags: ['cluster'],
        responses: {
          '200': {
            description: 'The stream.',
            content: {
              'text/event-stream': {
                schema: { type: 'string' },
                'x-sse-events': {
                  snapshot: ref('StreamSnapshot'),
                  node: ref('NodeStatus'),
                  'node-removed': ref('NodeRemoved'),
                  config: ref('ConfigChange'),
                  event: ref('FeedEvent'),
                  tick: ref('HistoryPoint'),
                },
              },
            },
          },
          '503': {
            description: '`unavailable`: this node has as many streams open as it serves; try another node.',
            headers: { 'Retry-After': { schema: { type: 'integer' } } },
            content: json(ref('Error')),
          },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics of this node',
        description:
          'The text exposition format: archive counters, upload times, lag per owned topic-partition, ' +
          'rebalances and leases per process group, processes running, and the Node.js process metrics.',
        operationId: 'metrics',
        tags: ['meta'],
        responses: {
          '200': {
            description: 'Prometheus text format 0.0.4.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/scaling': {
      get: {
        summary: 'The node count the scaler recommends, with its reason',
        description:
          'The latest decision of the cluster’s scaler, the same on every node. For Kubernetes: KEDA’s ' +
          '`metrics-api` scaler with `valueLocation: recommendedReplicas` and `targetValue: "1"`, or an HPA ' +
          'external metric through an adapter. Before any scaler decided, it recommends the nodes there are.',
        operationId: 'getScaling',
        tags: ['scaling'],
        responses: { '200': response('The recommendation.', ref('ScalingRecommendation')) },
      },
    },
    '/scaling/config': {
      get: {
        summary: 'The scaler config in effect',
        operationId: 'getScalerConfig',
        tags: ['scaling'],
        responses: { '200': response('The config (the defaults if none was written).', ref('ScalerConfig')) },
      },
      put: {
        summary: 'Replace the scaler config',
        description:
          'Fields not given take their defaults. Every bad field is listed in one 400, rules between ' +
          'fields too (`minNodes` above `maxNodes`, `calmLag` above `targetLag`, `cpuScaleInPercent` not ' +
          'below `cpuScaleOutPercent`). The scaler applies it at its next interval.',
        operationId: 'putScalerConfig',
        tags: ['scaling'],
        security: secured,
        requestBody: { required: true, content: json(ref('ScalerConfigFields')) },
        responses: {
          '200': response('The config as stored.', ref('ScalerConfig')),
          '400': errorResponse('InvalidScalerConfig'),
          ...writeErrors,
        },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        operationId: 'openApi',
        tags: ['meta'],
        responses: { '200': response('OpenAPI 3.1.', { type: 'object' }) },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: 'The token configured on the node. Missing: 401; wrong, or none configured: 403.',
      },
    },
    parameters: {
      Topic: {
        name: 'topic',
        in: 'path',
        required: true,
        description: 'A Kafka topic name.',
        schema: ref('TopicName'),
      },
    },
    responses: {
      InvalidTopic: response(
        '`invalid_topic`: the topic name in the URL is not valid (field `topic`); `bad_request`: the URL ' +
          'itself is malformed (a bad percent-encoding).',
        ref('Error'),
      ),
      InvalidRequest: response(
        '`invalid_topic` (the topic name in the URL, field `topic`), or `invalid_body` (a body that is ' +
          'not JSON, or not sent as `application/json`; a write other than PUT ignores a JSON body), or ' +
          '`bad_request` (a malformed URL).',
        ref('Error'),
      ),
      InvalidBody: response(
        '`invalid_body` (every bad field, with its path; malformed JSON; not a JSON object), ' +
          '`invalid_topic` (only the topic name is bad), or `bad_request` (a malformed URL).',
        ref('Error'),
      ),
      Unauthorized: {
        description: '`unauthorized`: no `Authorization: Bearer` header.',
        headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: '`Bearer realm="kdp"`' } },
        content: json(ref('Error')),
      },
      Forbidden: response(
        '`forbidden`: wrong token, or writes are disabled (no token configured).',
        ref('Error'),
      ),
      InvalidScalerConfig: response(
        '`invalid_body`: every bad field with its path (unknown fields, values out of range, rules ' +
          'between fields), malformed JSON, or not a JSON object.',
        ref('Error'),
      ),
      NotFound: response('`not_found`: the topic has no config.', ref('Error')),
      PayloadTooLarge: response('`payload_too_large`: the body exceeds 64 KiB.', ref('Error')),
      Unavailable: {
        description:
          '`unavailable`: the config store could not complete the write (Kafka unreachable); retry.',
        headers: { 'Retry-After': { schema: { type: 'integer' } } },
        content: json(ref('Error')),
      },
    },
    schemas,
  },
}
