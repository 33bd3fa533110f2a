// SIGTERM with the broker gone: the node still hands over what it can and exits by itself, with 0;
// a second signal exits at once with 130. Against a broker of this file's own (it is killed).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { archiveMaxStopMs, nodeStopBoundMs } from '../../src/processes/archiverNode.js'
import { archiverScript, type Run, start, waitFor } from '../helpers/commands.js'
import { uniqueName } from '../helpers/names.js'

let kafka: KafkaCluster
beforeAll(async () => {
  kafka = await startKafka()
})
afterAll(async () => {
  await kafka?.stop()
})

function node(): Run {
  return start(archiverScript, [
    '--brokers',
    kafka.bootstrap,
    '--sink',
    `file://${mkdtempSync(join(tmpdir(), 'kdp-shutdown-'))}`,
    '--http-port',
    '0',
    '--cluster',
    uniqueName('stop'),
    '--no-progress',
  ])
}

describe('kdp-archiver stopping', () => {
  it('exits by itself with 0 on SIGTERM while its broker is gone, and says it stopped', {
    timeout: 180_000,
  }, async () => {
    const run = node()
    await waitFor(run, /^kdp-archiver: node \S+ running/m, 90_000)
    await kafka.kill(0)
    const began = performance.now()
    run.child.kill('SIGTERM')
    const exit = await run.exit
    const tookMs = Math.round(performance.now() - began)
    console.log(`stop with the broker gone: ${tookMs} ms (bound ${nodeStopBoundMs(archiveMaxStopMs)} ms)`)
    expect(exit, run.stderr.slice(-3000)).toEqual({ code: 0, signal: null })
    expect(run.stdout).toMatch(/node \S+ stopping \(handing its work over\)\.\.\./)
    expect(run.stdout).toMatch(/node \S+ stopped\./)
    await kafka.restart(0)
  })

  it('exits at once with 130 on a second signal during the stop', { timeout: 180_000 }, async () => {
    const run = node()
    await waitFor(run, /^kdp-archiver: node \S+ running/m, 90_000)
    // With the broker gone the hand-over takes long: the second signal must not wait for it.
    await kafka.kill(0)
    run.child.kill('SIGTERM')
    await waitFor(run, /stopping \(handing its work over\)/m, 30_000)
    run.child.kill('SIGINT')
    const exit = await run.exit
    expect(exit).toEqual({ code: 130, signal: null })
    expect(run.stdout).not.toMatch(/node \S+ stopped\./)
    await kafka.restart(0)
  })
})
