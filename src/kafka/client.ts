import { Kafka, logLevel } from 'kafkajs'
import type { Logger } from '../util/logging.js'
import type { KafkaConnectionOptions } from './connection.js'
import { applyFastRecordDecode } from './fastRecordDecode.js'
import { applyWholeResponseFix, framedSocketFactory } from './framedSocket.js'
import { applyKafkajsIdleFix } from './idleFix.js'

interface KafkajsLogEntry {
  readonly level: logLevel
  readonly log: { readonly message: string; readonly groupId?: unknown } & Record<string, unknown>
}

/** Messages kafkajs logs as warnings or errors although they are routine for kdp. */
function isRoutine(message: string): boolean {
  return (
    // An error answer the client handles itself (TOPIC_ALREADY_EXISTS, REBALANCE_IN_PROGRESS...).
    message.startsWith('Response ') ||
    // Rebalances are routine in kdp; kafkajs warns about each one.
    message.includes('re-joining') ||
    // kdp's assignment notes travel as an unsubscribed "topic" (see coordination/memberProtocol.ts).
    message.startsWith('Consumer group received unsubscribed topics')
  )
}

/**
 * The one place a kafkajs client is built: kdp's log bridge (kafkajs lines become structured lines
 * of `logger`, routine ones at debug level) and the idle-loop fix. `onCrashLog` hears kafkajs's
 * "Crash:" line of a consumer group, which kafkajs writes before it sends LeaveGroup: stopping the
 * slices on it wins time over the CRASH event, which comes after. The fast record decoder goes in
 * before kafkajs decodes its first fetch; plaintext sockets without SASL hand kafkajs
 * whole responses read in place (framedSocket.ts).
 */
export function createKafka(
  options: KafkaConnectionOptions,
  onCrashLog: (groupId: string) => void = () => {},
): Kafka {
  applyKafkajsIdleFix()
  applyFastRecordDecode()
  applyWholeResponseFix()
  const logger = options.logger.child({ component: 'kafkajs' })
  return new Kafka({
    brokers: [...options.brokers],
    clientId: options.clientId,
    // Not under SASL: its handshake reads raw answers, and no test here runs SASL without TLS.
    ...(options.sasl === undefined && { socketFactory: framedSocketFactory() }),
    ...(options.ssl !== undefined && { ssl: options.ssl }),
    ...(options.sasl !== undefined && { sasl: kafkajsSasl(options.sasl) }),
    ...(options.connectionTimeoutMs !== undefined && { connectionTimeout: options.connectionTimeoutMs }),
    ...(options.requestTimeoutMs !== undefined && { requestTimeout: options.requestTimeoutMs }),
    logLevel: logLevel.WARN,
    logCreator: () => (entry: KafkajsLogEntry) => bridge(logger, entry, onCrashLog),
  })
}

function bridge(
  logger: Logger,
  { level, log }: KafkajsLogEntry,
  onCrashLog: (groupId: string) => void,
): void {
  const { message, timestamp: _t, logger: _l, stack: _s, ...fields } = log
  if (message.startsWith('Crash:') && typeof log.groupId === 'string') onCrashLog(log.groupId)
  if (isRoutine(message)) logger.debug(message, fields)
  else if (level <= logLevel.ERROR) logger.error(message, fields)
  else if (level === logLevel.WARN) logger.warn(message, fields)
  else logger.debug(message, fields)
}

type KafkajsSasl = NonNullable<ConstructorParameters<typeof Kafka>[0]['sasl']>

function kafkajsSasl(sasl: NonNullable<KafkaConnectionOptions['sasl']>): KafkajsSasl {
  if (sasl.mechanism === 'oauthbearer') {
    return { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await sasl.token() }) }
  }
  const { username, password } = sasl
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password }
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password }
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password }
  }
}
