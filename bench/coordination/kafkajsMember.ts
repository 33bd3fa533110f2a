// The baseline: a plain kafkajs 2.2.4 consumer in a group (default assigners), run as its own OS
// process. It reports every GROUP_JOIN with its assignment; SIGTERM disconnects (LeaveGroup) and exits.
import { Kafka, logLevel } from 'kafkajs'
import { emit, type KafkajsMemberConfig, readConfig } from './protocol.js'

const config = readConfig<KafkajsMemberConfig>('kafkajs')
const node = config.nodeId
emit({ e: 'loaded', node, at: Date.now() })

const kafka = new Kafka({
  brokers: [...config.brokers],
  clientId: 'kafkajs-baseline',
  logLevel: logLevel.WARN,
})
const consumer = kafka.consumer({
  groupId: config.group,
  ...(config.sessionTimeoutMs === undefined ? {} : { sessionTimeout: config.sessionTimeoutMs }),
  ...(config.rebalanceTimeoutMs === undefined ? {} : { rebalanceTimeout: config.rebalanceTimeoutMs }),
  ...(config.heartbeatIntervalMs === undefined ? {} : { heartbeatInterval: config.heartbeatIntervalMs }),
  ...(config.maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs: config.maxWaitTimeInMs }),
})
consumer.on(consumer.events.REBALANCING, () => emit({ e: 'rebalancing', node, at: Date.now() }))
let ready = false
consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
  const at = Date.now()
  const partitions = [...(payload.memberAssignment[config.topic] ?? [])].sort((a, b) => a - b)
  emit({ e: 'join', node, partitions, leader: payload.isLeader, at })
  if (!ready) {
    ready = true
    emit({ e: 'ready', node, pid: process.pid, at })
  }
})
await consumer.connect()
await consumer.subscribe({ topic: config.topic, fromBeginning: false })
await consumer.run({ autoCommit: false, eachMessage: async () => {} })
process.once('SIGTERM', () => {
  void consumer.disconnect().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
