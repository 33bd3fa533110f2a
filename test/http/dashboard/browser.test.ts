// The dashboard in a real browser (Debian's chromium through playwright-core) against three real
// nodes, each its own OS process, on the suite's broker, with load running: it shows the nodes and
// the placement, its numbers move, it follows a config change, and when the node it reads from is
// killed (-9) it goes on through another node by itself.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connectKafka } from '../../../src/kafka/index.js'
import { type Load, startLoad } from '../../../src/loadgen/load.js'
import { silentLogger } from '../../../src/util/logging.js'
import { launchChromium } from '../../helpers/browser.js'
import { uniqueName } from '../../helpers/names.js'
import { startNode, stopNode, type TestNode } from './nodes.js'

/** The few DOM members the page functions below use (the project compiles without the DOM lib). */
interface PageElement {
  readonly textContent: string | null
  readonly dataset: Record<string, string | undefined>
  getAttribute(name: string): string | null
}
interface PageGlobals {
  readonly document: {
    querySelector(selector: string): PageElement | null
    querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>
    getElementById(id: string): PageElement | null
  }
}

const brokers = inject('kafkaBrokers').split(',')
const token = 'dashboard-test-token'
const cluster = uniqueName('dash')
const topic = uniqueName('ticks')
const partitions = 3
let nodes: TestNode[] = []
let load: Load | undefined
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined
let page: Page
const screenshots = mkdtempSync(join(tmpdir(), 'kdp-dashboard-shots-'))
const pageErrors: string[] = []

async function putConfig(address: string, fields: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${address}/topics/${topic}/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  })
  expect(response.status, await response.clone().text()).toBe(200)
}

const sinkUrl = pathToFileURL(mkdtempSync(join(tmpdir(), 'kdp-dashboard-archive-'))).href
const config = {
  sinks: [{ id: 'local', url: sinkUrl }],
  pathTemplate: 'all',
  rotation: { maxRecords: 100, maxAgeMs: 2000 },
  parallelism: 3,
}

/** The text of the first element matching `selector`, once `ok` holds for it (polled in the page). */
async function waitForText(selector: string, ok: string, timeoutMs = 60_000): Promise<void> {
  await page.waitForFunction(
    ({ selector, ok }) => {
      const text = (globalThis as unknown as PageGlobals).document.querySelector(selector)?.textContent ?? ''
      return new RegExp(ok).test(text)
    },
    { selector, ok },
    { timeout: timeoutMs, polling: 200 },
  )
}

/** The ticker's point count, as the page keeps it. */
const points = (): Promise<number> =>
  page.evaluate(() =>
    Number((globalThis as unknown as PageGlobals).document.getElementById('summary')?.dataset.points ?? 0),
  )

async function waitForPoints(atLeast: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      Number(
        (globalThis as unknown as PageGlobals).document.getElementById('summary')?.dataset.points ?? 0,
      ) >= n,
    atLeast,
    { timeout: 60_000, polling: 200 },
  )
}

const connectedTo = () =>
  page.evaluate(() => {
    const c = (globalThis as unknown as PageGlobals).document.getElementById('connection')
    return { state: c?.dataset.state ?? '', nodeId: c?.dataset.nodeId ?? '', base: c?.dataset.base ?? '' }
  })

beforeAll(async () => {
  const admin = connectKafka({ brokers, clientId: 'dashboard-test', logger: silentLogger })
  await admin.ensureTopic({ topic, partitions, replicationFactor: 1 })
  await admin.disconnect()
  nodes = await Promise.all(
    [1, 2, 3].map((i) => startNode({ brokers, cluster, nodeId: `${cluster}-n${i}`, sinkUrl, token })),
  )
  await putConfig(nodes[0]!.address, config)
  load = await startLoad(
    {
      brokers,
      topic,
      partitions,
      rate: 60,
      valueBytes: 200,
      keys: 100,
      count: undefined,
      durationMs: undefined,
      seed: 7,
    },
    silentLogger,
  )
  browser = await launchChromium()
  page = await browser.context.newPage()
  page.on('pageerror', (error) => pageErrors.push(error.message))
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await load?.stop()
  await Promise.all(nodes.map((n) => stopNode(n)))
})

describe('the dashboard in a browser', () => {
  it('shows the three nodes and where the master and each archiver run', async () => {
    await page.goto(`${nodes[0]!.address}/`)
    await waitForText('#connection', `connected to ${nodes[0]!.nodeId}`)
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).document.querySelectorAll(
          '[data-testid=node][data-lost=false]',
        ).length === 3,
      undefined,
      { timeout: 60_000, polling: 200 },
    )
    const ids = await page.$$eval('[data-testid=node]', (cards) =>
      cards.map((c) => c.getAttribute('data-node-id')),
    )
    expect(ids.sort()).toEqual(nodes.map((n) => n.nodeId).sort())
    // One master, and the three archivers of the topic, each on one of the three nodes.
    await page.waitForFunction(
      (t) =>
        (globalThis as unknown as PageGlobals).document.querySelectorAll(
          '[data-testid=placement-row][data-role=master]',
        ).length === 1 &&
        (globalThis as unknown as PageGlobals).document.querySelectorAll(
          `[data-testid=placement-row][data-role=archiver][data-key^="${t}|"]`,
        ).length === 3,
      topic,
      { timeout: 60_000, polling: 200 },
    )
    const placement = await page.$$eval('[data-testid=placement-row]', (rows) =>
      rows.map((r) => ({ role: r.getAttribute('data-role'), node: r.getAttribute('data-node-id') })),
    )
    for (const row of placement) expect(ids).toContain(row.node)
    expect(placement.filter((r) => r.role === 'archiver')).toHaveLength(3)
    expect(pageErrors).toEqual([])
  })

  it('moves by itself while the load runs: rates, lag and the ticker update without a reload', async () => {
    const panel = `[data-testid=topic][data-topic="${topic}"]`
    await waitForText(`${panel} [data-testid=topic-in]`, '^[1-9]')
    await waitForText(`${panel} [data-testid=topic-out]`, '^[1-9]')
    const before = await points()
    const reported = await page.$$eval('[data-testid=node-updated]', (e) =>
      e.map((x) => x.getAttribute('data-updated')),
    )
    await waitForPoints(before + 3)
    await page.waitForFunction(
      (old) =>
        [
          ...(globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid=node-updated]'),
        ].every((e, i) => e.getAttribute('data-updated') !== old[i]),
      reported,
      { timeout: 60_000, polling: 200 },
    )
    // What the page shows is what the API says: every partition of the topic has an owner.
    const lag = (await (await fetch(`${nodes[1]!.address}/topics/${topic}/lag`)).json()) as {
      partitions: Array<{ partition: number; nodeId: string }>
    }
    expect(lag.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2])
    await page.screenshot({ path: join(screenshots, 'running.png'), fullPage: true })
  })

  it('shows a config change made through another node', async () => {
    const panel = `[data-testid=topic][data-topic="${topic}"]`
    const revision = Number(await page.$eval(panel, (e) => e.getAttribute('data-revision')))
    await putConfig(nodes[2]!.address, { ...config, rotation: { maxRecords: 150, maxAgeMs: 2000 } })
    await page.waitForFunction(
      ({ panel, next }) =>
        (globalThis as unknown as PageGlobals).document
          .querySelector(panel)
          ?.getAttribute('data-revision') === String(next),
      { panel, next: revision + 1 },
      { timeout: 60_000, polling: 200 },
    )
    expect(await page.$eval(`${panel} [data-testid=topic-config]`, (e) => e.textContent)).toContain(
      '"maxRecords": 150',
    )
    await page.waitForSelector('[data-testid=event][data-type=config-changed]', { timeout: 60_000 })
  })

  it('goes on through another node when the node it reads from is killed, and marks what moved', async () => {
    // The page must read from a node that runs a process, or nothing would move: if its node runs
    // none (the assignment may leave one idle), it is opened on one that does.
    const running = await page.$$eval('[data-testid=placement-row]', (rows) =>
      rows.map((r) => r.getAttribute('data-node-id')),
    )
    if (!running.includes((await connectedTo()).nodeId)) {
      const busy = nodes.find((n) => running.includes(n.nodeId))!
      await page.goto(`${busy.address}/`)
      await waitForText('#connection', `connected to ${busy.nodeId}`)
    }
    const before = await connectedTo()
    expect(before.state).toBe('live')
    const victim = nodes.find((n) => n.nodeId === before.nodeId)!
    expect(running).toContain(victim.nodeId)
    // A move stays marked for a while only: no earlier mark may count, and the victim's is watched
    // for from the kill on, so that a slow step below cannot make the test miss it.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).document.querySelectorAll(
          '[data-testid=placement-row][data-moved=true]',
        ).length === 0,
      undefined,
      { timeout: 60_000, polling: 200 },
    )
    const moved = page.waitForFunction(
      (from) =>
        [
          ...(globalThis as unknown as PageGlobals).document.querySelectorAll(
            '[data-testid=placement-row][data-moved=true]',
          ),
        ].some((row) => row.textContent?.includes(`moved from ${from}`)),
      victim.nodeId,
      { timeout: 100_000, polling: 100 },
    )
    moved.catch(() => {})
    const exited = new Promise((resolve) => victim.child.once('exit', resolve))
    victim.child.kill('SIGKILL')
    await exited
    await page.waitForFunction(
      (gone) => {
        const c = (globalThis as unknown as PageGlobals).document.getElementById('connection')
        return c?.dataset.state === 'live' && c.dataset.nodeId !== gone && c.dataset.nodeId !== ''
      },
      victim.nodeId,
      { timeout: 90_000, polling: 200 },
    )
    const after = await connectedTo()
    expect(nodes.map((n) => n.nodeId)).toContain(after.nodeId)
    expect(after.base).not.toBe(new URL(victim.address).origin)
    expect(await page.textContent('#connection')).toContain(`connected to ${after.nodeId}`)
    // It keeps updating through the new node: the killed node shows as lost, the ticker moves on.
    await page.waitForSelector(`[data-testid=node][data-node-id="${victim.nodeId}"][data-lost=true]`, {
      timeout: 60_000,
    })
    const resumed = await points()
    await waitForPoints(resumed + 3)
    // The victim's processes start elsewhere after its session times out: the rows say so.
    await moved
    const shot = join(screenshots, 'after-failover.png')
    await page.screenshot({ path: shot, fullPage: true })
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG')
    expect(pageErrors).toEqual([])
  })
})
