// Back-to-back transactions, for the chat benchmark: what kafkajs's retry after the broker's
// CONCURRENT_TRANSACTIONS answer costs (see examples/chat/shard.ts).
import { type Kafka, Partitioners } from 'kafkajs'

/**
 * 100 back-to-back transactions (5 outputs, 5 changelog records, sendOffsets, commit) with a
 * given producer `retry`: their wall times. Shows what kafkajs's default first retry (~300 ms) costs when a
 * transaction starts before the broker has finished the previous one's markers.
 */
export async function transactionLoop(
  kafka: Kafka,
  label: string,
  retry: { initialRetryTime: number; maxRetryTime: number; retries: number } | undefined,
) {
  const topic = `bench-txloop-${label}-${Date.now() % 100_000}`
  const changelog = `${topic}-changelog`
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 6 },
      { topic: changelog, numPartitions: 6 },
    ],
    waitForLeaders: false,
  })
  await new Promise((r) => setTimeout(r, 1000))
  await admin.disconnect()
  const producer = kafka.producer({
    transactionalId: topic,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    ...(retry ? { retry } : {}),
  })
  await producer.connect()
  const times: number[] = []
  for (let i = 0; i < 105; i++) {
    const t0 = performance.now()
    // A shard's transaction in small: outputs spread by key, changelog records to one partition,
    // the input offset.
    const transaction = await producer.transaction()
    await transaction.sendBatch({
      topicMessages: [
        {
          topic,
          messages: Array.from({ length: 5 }, (_, j) => ({ key: `k${i}-${j}`, value: 'x'.repeat(150) })),
        },
        {
          topic: changelog,
          messages: Array.from({ length: 5 }, (_, j) => ({
            partition: 0,
            key: `s${j}`,
            value: 'y'.repeat(120),
          })),
        },
      ],
    })
    await transaction.sendOffsets({
      consumerGroupId: `${topic}.g`,
      topics: [{ topic, partitions: [{ partition: 0, offset: String(i) }] }],
    })
    await transaction.commit()
    if (i >= 5) times.push(performance.now() - t0) // the first ones find coordinators and connections
  }
  await producer.disconnect()
  const sorted = [...times].sort((a, b) => a - b)
  const at = (p: number) =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 10) / 10
  const result = {
    label,
    retry: retry ?? 'kafkajs default',
    n: sorted.length,
    medianMs: at(0.5),
    p90Ms: at(0.9),
    maxMs: at(1),
    meanMs: Math.round((sorted.reduce((a, b) => a + b, 0) / sorted.length) * 10) / 10,
    /** Transactions slower than 100 ms: a retry after CONCURRENT_TRANSACTIONS is in them. */
    over100Ms: sorted.filter((t) => t > 100).length,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
  return result
}
