// A client error kafkajs will not retry must not leave an idle handle that looks healthy: start()
// rejects with the reason. Against a broker of this file's own, whose minimum session is 8 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { DistributedProcessing } from '../../src/index.js'
import { silentLogger } from '../../src/util/logging.js'
import { uniqueName } from '../helpers/names.js'

let kafka: KafkaCluster
beforeAll(async () => {
  kafka = await startKafka({ config: { 'group.min.session.timeout.ms': 8000 } })
})
afterAll(async () => {
  await kafka?.stop()
})

describe('DistributedProcessing.start and errors kafkajs does not retry', () => {
  it('rejects with the reason when the broker refuses the session timeout', {
    timeout: 120_000,
  }, async () => {
    const processing = new DistributedProcessing({
      brokers: kafka.brokers,
      topic: uniqueName('tech'),
      partitions: 2,
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 500,
      maxStopMs: 500,
      leaseMarginMs: 200,
      logger: silentLogger,
    })
    const started = processing.start(uniqueName('g'), [async () => {}])
    await expect(started).rejects.toThrow(
      /will not be retried.*session timeout.*group\.min\.session\.timeout\.ms/s,
    )
    // The name is free again: a corrected start may follow.
    const fixed = new DistributedProcessing({
      brokers: kafka.brokers,
      topic: uniqueName('tech'),
      partitions: 2,
      sessionTimeoutMs: 9000,
      logger: silentLogger,
    })
    const handle = await fixed.start(uniqueName('g'), [async () => {}])
    expect(handle.state).toBe('running')
    await handle.stop()
  })
})
