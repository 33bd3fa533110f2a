// The "existing Node service": a small HTTP server that embeds kdp. `DistributedProcessing.start`
// spreads the chat's shards (one per input partition) over every node that runs this, with at most
// one instance of each shard running anywhere.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import * as t from 'io-ts'
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs'
import {
  createLogger,
  DistributedProcessing,
  type Logger,
  type ProcessingHandle,
  supervise,
} from '../../src/index.js'
import { settleWithin } from './bounded.js'
import { startChatHttp } from './http.js'
import { type ChatLimits, defaultLimits } from './messages.js'
import { chatShard, type ShardSettings } from './shard.js'
import { ShardBoard } from './status.js'
import { type ChatTopics, chatTopics, ensureChatTopics } from './topics.js'

const positiveInt = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n > 0, 'a positive integer')
const brokerList = t.refinement(
  t.array(t.refinement(t.string, (s) => /^[^\s:]+:\d{1,5}$/.test(s), 'host:port')),
  (a) => a.length > 0,
  'a non-empty list of host:port',
)

/** A chat node's configuration, as decoded from flags, environment or a test harness. */
export const ChatNodeConfigCodec = t.intersection([
  t.type({ brokers: brokerList }),
  t.partial({
    nodeId: t.string,
    /** Prefix of every group, transactional id and kdp topic of this chat. Default `chat`. */
    app: t.refinement(t.string, (s) => /^[A-Za-z0-9._-]{1,100}$/.test(s), 'letters, digits, ".", "_", "-"'),
    /** Prefix of the six topic names (default none: the seed's names). */
    topicPrefix: t.string,
    /** Partitions of the topics when this node creates them (the input's count wins if it exists). */
    partitions: positiveInt,
    historySize: positiveInt,
    limits: t.partial({
      maxRecordBytes: positiveInt,
      maxBodyBytes: positiveInt,
      maxNameBytes: positiveInt,
      maxRecipients: positiveInt,
    }),
    httpHost: t.string,
    httpPort: t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0 && n < 65536, 'a port'),
    /** kdp's timings (see DistributedProcessingSettings). */
    sessionTimeoutMs: positiveInt,
    heartbeatIntervalMs: positiveInt,
    maxStopMs: positiveInt,
    leaseMarginMs: t.number,
    /** The shards' own consumer groups (restore and input): keep them below kdp's session. */
    shardSessionTimeoutMs: positiveInt,
    shardHeartbeatIntervalMs: positiveInt,
    transactionTimeoutMs: positiveInt,
  }),
])
/** A decoded chat node configuration. */
export type ChatNodeConfig = t.TypeOf<typeof ChatNodeConfigCodec>

/** A running chat node. */
export interface ChatNode {
  readonly nodeId: string
  /** `http://host:port` of its HTTP API. */
  readonly httpAddress: string
  readonly shards: number
  readonly topics: ChatTopics
  /** Stops the HTTP server, hands this node's shards over, leaves the group; bounded by about 2 × maxStopMs + 5 s. */
  stop(): Promise<void>
}

function kafkaLogger(logger: Logger) {
  return () =>
    ({ level, log }: { level: logLevel; log: { message: string } & Record<string, unknown> }) => {
      const { message, timestamp: _t, logger: _l, ...fields } = log
      // Error answers (a coordinator loading, the previous transaction still completing) and rejoins
      // are handled by kafkajs itself.
      const routine =
        message.startsWith('Response ') ||
        message.includes('re-joining') ||
        message.includes('concurrent operation on the same transaction')
      if (routine || level > logLevel.WARN) logger.debug(message, fields)
      else if (level === logLevel.ERROR) logger.error(message, fields)
      else logger.warn(message, fields)
    }
}

/** Starts one chat node: topics (created when missing), the shards through kdp, then the HTTP API. */
export async function startChatNode(config: ChatNodeConfig, baseLogger?: Logger): Promise<ChatNode> {
  const nodeId = config.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`
  const app = config.app ?? 'chat'
  const base = baseLogger ?? createLogger({ name: 'chat' })
  const logger = base.child({ node: nodeId })
  const topics = chatTopics(config.topicPrefix)
  const limits: ChatLimits = { ...defaultLimits, ...config.limits }
  const kafka = new Kafka({
    brokers: config.brokers,
    clientId: `${app}-${nodeId}`,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogger(logger.child({ component: 'kafkajs' })),
  })

  const admin = kafka.admin()
  await admin.connect()
  const shards = await ensureChatTopics(admin, topics, config.partitions ?? 8).finally(() =>
    settleWithin(admin.disconnect(), 5000),
  )

  const maxStopMs = config.maxStopMs ?? 3000
  const sessionTimeoutMs = config.sessionTimeoutMs ?? 10_000
  const board = new ShardBoard()
  const settings: ShardSettings = {
    kafka,
    app,
    topics,
    shards,
    historySize: config.historySize ?? 100,
    limits,
    stopBudgetMs: Math.floor(maxStopMs * 0.6),
    transactionTimeoutMs: config.transactionTimeoutMs ?? 10_000,
    sessionTimeoutMs: config.shardSessionTimeoutMs ?? Math.min(6000, sessionTimeoutMs),
    heartbeatIntervalMs: config.shardHeartbeatIntervalMs ?? 1000,
    restoreStallMs: 30_000,
    board,
  }
  const processing = new DistributedProcessing({
    brokers: config.brokers,
    nodeId,
    topic: `${app}.kdp`,
    partitions: shards,
    sessionTimeoutMs,
    maxStopMs,
    ...(config.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: config.heartbeatIntervalMs } : {}),
    ...(config.leaseMarginMs !== undefined ? { leaseMarginMs: config.leaseMarginMs } : {}),
    logger: base, // kdp adds the node id itself
  })
  // A shard that fails (a fenced producer, a lost coordinator) restarts fresh: it restores from Kafka.
  const processes = Array.from({ length: shards }, (_, shard) =>
    supervise(chatShard(shard, settings), { initialDelayMs: 500, maxDelayMs: 10_000, maxRestarts: 1000 }),
  )
  const handle: ProcessingHandle = await processing.start(`${app}.nodes`, processes)

  let producer: Promise<Producer> | undefined
  const inputProducer = (): Promise<Producer> => {
    producer ??= (async () => {
      const p = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner })
      await p.connect()
      return p
    })()
    producer.catch(() => {
      producer = undefined
    })
    return producer
  }
  const http = await startChatHttp({
    host: config.httpHost ?? '127.0.0.1',
    port: config.httpPort ?? 0,
    nodeId,
    shards,
    topics,
    limits,
    board,
    handle,
    inputProducer,
    logger,
  })
  logger.info('chat node ready', { http: http.address, shards, topics })

  let stopping: Promise<void> | undefined
  return {
    nodeId,
    httpAddress: http.address,
    shards,
    topics,
    stop: () => {
      stopping ??= (async () => {
        await http.close(2000)
        await handle.stop()
        const p = producer
        if (p)
          await settleWithin(
            p.then((x) => x.disconnect()),
            2000,
          )
      })()
      return stopping
    },
  }
}
