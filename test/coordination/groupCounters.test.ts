// The handle's counters (rebalances, lease renewals, lease losses) on a broker of its own, reached
// through a TCP proxy that can be cut: an outage the node lives through.
import { afterEach, describe, expect, it } from 'vitest'
import { startKafka } from '../../services/kafka.js'
import { DistributedProcessing, type ProcessContext, silentLogger, sleep } from '../../src/index.js'
import { eventually, uniqueName } from '../helpers/names.js'
import { startTcpProxy } from '../helpers/tcpProxy.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
})

const idle = async (ctx: ProcessContext) => {
  while (!ctx.signal.aborted) await sleep(50, ctx.signal)
}

describe('ProcessingHandle.counters()', () => {
  it('counts joins and renewals, and one lease loss per outage that outlives the lease', {
    timeout: 240_000,
  }, async () => {
    const proxy = await startTcpProxy()
    cleanups.push(() => proxy.close())
    const kafka = await startKafka({ extraListeners: [{ name: 'PROXIED', advertisedPorts: [proxy.port] }] })
    cleanups.push(() => kafka.stop())
    proxy.setTarget(kafka.listenerPorts.PROXIED![0]!)
    const processing = new DistributedProcessing({
      brokers: [`127.0.0.1:${proxy.port}`],
      topic: uniqueName('tech'),
      partitions: 4,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      maxStopMs: 1000,
      leaseMarginMs: 500,
      logger: silentLogger,
    })
    const handle = await processing.start(uniqueName('g'), [idle, idle])
    cleanups.push(() => handle.stop())
    await eventually('both processes running', () => (handle.running().length === 2 ? true : undefined))
    await eventually('renewals counted', () => (handle.counters().leaseRenewals >= 3 ? true : undefined))
    const before = handle.counters()
    expect(before.rebalances).toBeGreaterThanOrEqual(1)
    expect(before.leaseLosses).toBe(0)

    await proxy.cut()
    await eventually('the lease lost', () => (handle.counters().leaseLosses === 1 ? true : undefined))
    await eventually('processes stopped', () => (handle.running().length === 0 ? true : undefined))
    await proxy.restore()
    await eventually('running again', () => (handle.running().length === 2 ? true : undefined), 120_000)
    const after = handle.counters()
    expect(after.leaseLosses).toBe(1)
    expect(after.rebalances).toBeGreaterThan(before.rebalances)
    expect(after.leaseRenewals).toBeGreaterThan(before.leaseRenewals)
    // A graceful stop is not a loss.
    await handle.stop()
    expect(handle.counters().leaseLosses).toBe(1)
  })
})
