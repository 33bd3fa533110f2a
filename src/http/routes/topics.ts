import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import * as t from 'io-ts'
import { compressionProblem } from '../../processes/archiver/compression.js'
import { StoppedArchiver } from '../../processes/state/status.js'
import type { ConfigStore, StatusView } from '../../processes/state/stores.js'
import {
  decodeConfigFields,
  fieldsOf,
  isValidTopicName,
  KafkaTopicName,
  TopicConfig,
  type TopicConfigFields,
} from '../../processes/state/topicConfig.js'
import { described, withDefault } from '../../util/codecs.js'
import { type FieldError, ValidationError } from '../../util/decode.js'
import type { Logger } from '../../util/logging.js'
import { sendError } from '../errors.js'

export interface TopicRoutesOptions {
  readonly configs: ConfigStore
  /** The nodes' status records: where `GET /topics` finds archivers that stopped by themselves. */
  readonly status?: StatusView
  readonly knownTopics?: () => Promise<string[]>
  /** `onRequest` hook that lets only authenticated writes through. */
  readonly guard: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
  readonly logger: Logger
  /** How long `GET /topics` waits for `knownTopics` before answering with the configured topics only. */
  readonly knownTopicsTimeoutMs?: number
}

interface TopicRoute {
  Params: { topic: string }
}

/** One line of `GET /topics`. */
export const TopicEntry = t.readonly(
  t.type({
    topic: KafkaTopicName,
    config: described(t.union([TopicConfig, t.null]), 'null: the topic exists in Kafka but has no config.'),
    stopped: withDefault(
      described(
        t.readonlyArray(t.intersection([StoppedArchiver, t.type({ nodeId: t.string })])),
        'Its archivers that stopped by themselves (a sink that refuses for good, a conflicting object, ' +
          'a bad record under policy `fail`), as the live nodes running them report: each stays stopped ' +
          'until the config changes or the topic is restarted (`POST /topics/:topic/restart`).',
      ),
      [],
    ),
  }),
)
export type TopicEntry = t.TypeOf<typeof TopicEntry>

/** Kafka's own rule for topic names: 1..249 of `[A-Za-z0-9._-]`, and not `.` or `..`. */
export function topicNameErrors(topic: string): FieldError[] {
  if (isValidTopicName(topic)) return []
  return [
    {
      path: 'topic',
      message: 'expected a Kafka topic name: 1 to 249 of A-Z a-z 0-9 . _ - (not "." or "..")',
    },
  ]
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function notFound(reply: FastifyReply, topic: string): FastifyReply {
  return sendError(reply, 404, { error: 'not_found', message: `topic "${topic}" has no archive config` })
}

function invalidTopic(reply: FastifyReply, fields: FieldError[]): FastifyReply {
  return sendError(reply, 400, { error: 'invalid_topic', message: 'invalid topic name in the URL', fields })
}

export function registerTopicRoutes(app: FastifyInstance, options: TopicRoutesOptions): void {
  const { configs, knownTopics, guard, logger, status } = options
  const knownTopicsTimeoutMs = options.knownTopicsTimeoutMs ?? 5_000

  /** Runs a store write; a store failure (Kafka unreachable, ...) answers 503, a rejected value 400. */
  async function write<T>(reply: FastifyReply, topic: string, action: string, run: () => Promise<T>) {
    try {
      return { ok: true as const, value: await run() }
    } catch (error) {
      if (error instanceof ValidationError) {
        sendError(reply, 400, { error: 'invalid_body', message: error.message, fields: error.errors })
      } else {
        logger.error('config store write failed', {
          topic,
          action,
          error: error instanceof Error ? error.message : String(error),
        })
        reply.header('retry-after', '5')
        sendError(reply, 503, {
          error: 'unavailable',
          message: `could not ${action} the config of topic "${topic}"; try again`,
        })
      }
      return { ok: false as const }
    }
  }

  app.get('/topics', async () => {
    const configured = configs.list()
    const names = new Set(configured.map((c) => c.topic))
    let existing: string[] = []
    if (knownTopics) {
      try {
        existing = await withTimeout(knownTopics(), knownTopicsTimeoutMs)
      } catch (error) {
        logger.warn('could not list Kafka topics; listing configured topics only', {
          error: error instanceof Error ? error.message : String(error),
        })
      }
    }
    const stopped = (status?.nodes() ?? [])
      .filter((n) => !n.lost)
      .flatMap((n) => n.stoppedArchivers.map((s) => ({ ...s, nodeId: n.nodeId })))
    const stoppedOf = (topic: string) => stopped.filter((s) => s.topic === topic)
    const entries: TopicEntry[] = configured.map((config) => ({
      topic: config.topic,
      config,
      stopped: stoppedOf(config.topic),
    }))
    for (const topic of new Set(existing))
      if (!names.has(topic)) entries.push({ topic, config: null, stopped: stoppedOf(topic) })
    return entries.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
  })

  app.get<TopicRoute>('/topics/:topic/config', async (request, reply) => {
    const { topic } = request.params
    const errors = topicNameErrors(topic)
    if (errors.length > 0) return invalidTopic(reply, errors)
    return configs.get(topic) ?? notFound(reply, topic)
  })

  app.put<TopicRoute>('/topics/:topic/config', { onRequest: guard }, async (request, reply) => {
    const { topic } = request.params
    const errors = topicNameErrors(topic)
    const body: unknown = request.body
    let fields: TopicConfigFields | undefined
    if (!isPlainObject(body)) {
      errors.push({
        path: '',
        message:
          body === undefined
            ? 'a JSON object body is required ({} takes every default)'
            : 'the body must be a JSON object',
      })
    } else {
      try {
        fields = decodeConfigFields(body)
        // Valid, but not writable here: refused now rather than an archiver that stops later.
        const problem = compressionProblem(fields.compression)
        if (problem !== undefined) errors.push({ path: 'compression', message: problem })
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error
        errors.push(...error.errors)
      }
    }
    if (errors.length > 0 || fields === undefined) {
      const bodyErrors = errors.filter((e) => e.path !== 'topic')
      if (bodyErrors.length === 0) return invalidTopic(reply, errors)
      const message = `invalid ${errors.map((e) => `${e.path || '(body)'}: ${e.message}`).join('; ')}`
      return sendError(reply, 400, { error: 'invalid_body', message, fields: errors })
    }
    const decoded = fields
    const result = await write(reply, topic, 'store', () => configs.put(topic, decoded))
    return result.ok ? result.value : reply
  })

  app.delete<TopicRoute>('/topics/:topic/config', { onRequest: guard }, async (request, reply) => {
    const { topic } = request.params
    const errors = topicNameErrors(topic)
    if (errors.length > 0) return invalidTopic(reply, errors)
    const result = await write(reply, topic, 'delete', () => configs.delete(topic))
    if (!result.ok) return reply
    return result.value ? reply.code(204).send() : notFound(reply, topic)
  })

  const actions = {
    pause: (c: TopicConfig): TopicConfigFields => ({ ...fieldsOf(c), paused: true }),
    resume: (c: TopicConfig): TopicConfigFields => ({ ...fieldsOf(c), paused: false }),
    // Same fields: the store bumps the revision, which restarts the topic's archivers.
    restart: (c: TopicConfig): TopicConfigFields => fieldsOf(c),
  }
  for (const [action, change] of Object.entries(actions)) {
    app.post<TopicRoute>(`/topics/:topic/${action}`, { onRequest: guard }, async (request, reply) => {
      const { topic } = request.params
      const errors = topicNameErrors(topic)
      if (errors.length > 0) return invalidTopic(reply, errors)
      const result = await write(reply, topic, action, () => configs.update(topic, change))
      if (!result.ok) return reply
      return result.value ?? notFound(reply, topic)
    })
  }
}
