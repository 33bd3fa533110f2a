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
    const settings = {
      topic: uniqueName('tech'),
      partitions: 4,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      maxStopMs: 1000,
      leaseMarginMs: 500,
      logger: silentLogger,
    }
    const processing = new DistributedProcessing({ brokers: [`127.0.0.1:${proxy.port}`], ...settings })
    const group = uniqueName('g')
    const handle = await processing.start(group, [idle, idle])
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
    // An outage shorter than the session needs no rebalance: the lease is renewed by the next
    // heartbeat. A second member joining is one.
    expect(after.rebalances).toBeGreaterThanOrEqual(before.rebalances)
    expect(after.leaseRenewals).toBeGreaterThan(before.leaseRenewals)
    const another = new DistributedProcessing({ brokers: kafka.brokers, ...settings })
    const second = await another.start(group, [idle, idle])
    cleanups.push(() => second.stop())
    await eventually('a rebalance for the new member', () =>
      handle.counters().rebalances > after.rebalances ? true : undefined,
    )
    await second.stop()
    // A graceful stop is not a loss.
    await handle.stop()
    expect(handle.counters().leaseLosses).toBe(1)
  })
})
