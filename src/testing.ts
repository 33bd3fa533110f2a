/**
 * kdp/testing: helpers for testing your own processes and archive integrations without a cluster.
 * Nothing here talks to Kafka.
 */
export { createTestContext, type TestContext } from './coordination/testContext.js'
export { MemoryConfigStore } from './processes/state/memoryConfigStore.js'
