// GET /metrics of a real node (real archivers on the suite's broker), read by a real Prometheus
// text-format parser: prometheus_client's, from the project venv (services/moto/requirements.txt).
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { cacheDir, repoRoot } from '../../services/process.js'
import { ArchiveMetrics, createArchiverFactory } from '../../src/processes/archiver/index.js'
import { type ArchiverNode, startArchiverNode } from '../../src/processes/archiverNode.js'
import { openSink } from '../../src/sinks/openSink.js'
import { silentLogger } from '../../src/util/logging.js'
import { eventually, uniqueName } from '../helpers/names.js'
import { createTopic, produce } from '../processes/archiver/harness.js'

const brokers = inject('kafkaBrokers').split(',')
const python = join(cacheDir, 'venv', 'bin', 'python')
const token = 'metrics-test-token-never-shown'
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Family {
  readonly name: string
  readonly type: string
  readonly samples: ReadonlyArray<{ name: string; labels: Record<string, string>; value: number }>
}

const parser = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": family.name, "type": family.type,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]})
print(json.dumps(out))
`

/** The families of a text exposition, as prometheus_client parses them (it throws on bad text). */
function parse(text: string): Promise<Family[]> {
  if (!existsSync(python))
    throw new Error(
      `no Python venv at ${python}: run 'npm run services:install' (it installs prometheus_client)`,
    )
  return new Promise((resolve, reject) => {
    const child = execFile(python, ['-c', parser], { maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`prometheus_client refused the text: ${stderr}`))
      else resolve(JSON.parse(stdout) as Family[])
    })
    child.stdin?.end(text)
  })
}

async function startNode(cluster: string, sinkUrl: string): Promise<ArchiverNode> {
  const metrics = new ArchiveMetrics()
  const archiver = createArchiverFactory({
    brokers,
    cluster,
    openSink: (url) => openSink(url),
    maxMessagesInFlight: 10_000,
    maxBytesInFlight: 16 * 2 ** 20,
    metrics,
    logger: silentLogger,
  })
  cleanups.push(() => archiver.close())
  const node = await startArchiverNode({
    brokers,
    cluster,
    nodeId: `${cluster}-n1`,
    include: ['none-such'],
    defaultSinks: [{ id: 'local', url: sinkUrl }],
    http: { token },
    archiver,
    metrics,
    statusIntervalMs: 500,
    partitions: 4,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxStopMs: 1000,
    leaseMarginMs: 500,
    logger: silentLogger,
  })
  cleanups.push(() => node.stop())
  return node
}

describe('GET /metrics', () => {
  it('is valid Prometheus text with the archive, lag, group and process metrics of the node', async () => {
    const cluster = uniqueName('prom')
    const topic = uniqueName('measured')
    await createTopic(topic, 2)
    await produce(topic, [
      ...Array.from({ length: 40 }, (_, i) => ({ partition: i % 2, value: JSON.stringify({ i }) })),
      { partition: 0, value: '{"not json' },
    ])
    const sinkUrl = pathToFileURL(mkdtempSync(join(tmpdir(), 'kdp-metrics-'))).href
    const node = await startNode(cluster, sinkUrl)
    const put = await fetch(`${node.httpAddress}/topics/${topic}/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        sinks: [{ id: 'local', url: sinkUrl }],
        pathTemplate: 'all',
        rotation: { maxRecords: 10 },
      }),
    })
    expect(put.status).toBe(200)

    const scrape = async () => {
      const response = await fetch(`${node.httpAddress}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      const text = await response.text()
      expect(text).not.toContain(token)
      return { text, families: new Map((await parse(text)).map((f) => [f.name, f])) }
    }
    const value = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
      families
        .get(name)
        ?.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => (s.name === name || s.name === `${name}_total` ? sum + s.value : sum), 0)

    // 40 good records in files of 10 (20 a partition: 4 files), the bad one dead-lettered; the
    // offsets are committed a moment after the last upload is counted.
    const { families } = await eventually('everything archived, counted and committed', async () => {
      const scraped = await scrape()
      const committedLag = scraped.families.get('kdp_archive_committed_lag_records')?.samples ?? []
      return value(scraped.families, 'kdp_archive_records_archived') === 40 &&
        value(scraped.families, 'kdp_archive_records_dead_lettered') === 1 &&
        committedLag.length === 2 &&
        committedLag.every((s) => s.value === 0)
        ? scraped
        : undefined
    })
    const expectType = (name: string, type: string) => expect(families.get(name)?.type, name).toBe(type)
    for (const name of [
      'kdp_archive_records_consumed',
      'kdp_archive_bytes_consumed',
      'kdp_archive_records_archived',
      'kdp_archive_bytes_archived',
      'kdp_archive_files_written',
      'kdp_archive_bad_records',
      'kdp_archive_records_dead_lettered',
      'kdp_archive_upload_failures',
      'kdp_group_rebalances',
      'kdp_group_lease_renewals',
      'kdp_group_lease_losses',
      'process_cpu_seconds',
    ])
      expectType(name, 'counter')
    for (const name of [
      'kdp_archive_unread_lag_records',
      'kdp_archive_committed_lag_records',
      'kdp_archive_buffered_records',
      'kdp_archive_buffered_bytes',
      'kdp_processes_running',
      'kdp_node_info',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
    ])
      expectType(name, 'gauge')
    expectType('kdp_archive_upload_duration_seconds', 'histogram')

    expect(value(families, 'kdp_archive_records_consumed')).toBe(40)
    expect(value(families, 'kdp_archive_files_written')).toBe(4)
    expect(value(families, 'kdp_archive_bad_records')).toBe(1)
    const uploads = families.get('kdp_archive_upload_duration_seconds')!.samples
    expect(uploads.find((s) => s.name === 'kdp_archive_upload_duration_seconds_count')?.value).toBe(4)
    expect(uploads.find((s) => s.labels.le === '+Inf')?.value).toBe(4)

    // One series per owned partition, labelled with its topic, sink and partition.
    const unread = families.get('kdp_archive_unread_lag_records')!.samples
    expect(unread.map((s) => `${s.labels.topic}/${s.labels.sink}/${s.labels.partition}`).sort()).toEqual([
      `${topic}/local/0`,
      `${topic}/local/1`,
    ])
    expect(unread.every((s) => s.value === 0)).toBe(true)
    const committed = families.get('kdp_archive_committed_lag_records')!.samples
    expect(committed.every((s) => s.value === 0)).toBe(true)

    const groups = families.get('kdp_processes_running')!.samples
    expect(Object.fromEntries(groups.map((s) => [s.labels.group, s.value]))).toEqual({
      [`${cluster}-master`]: 1,
      [`${cluster}-archivers`]: 1,
      [`${cluster}-scaler`]: 1,
    })
    for (const group of [`${cluster}-master`, `${cluster}-archivers`]) {
      expect(value(families, 'kdp_group_rebalances', { group })).toBeGreaterThanOrEqual(1)
      expect(value(families, 'kdp_group_lease_renewals', { group })).toBeGreaterThanOrEqual(1)
      expect(value(families, 'kdp_group_lease_losses', { group })).toBe(0)
    }
    expect(families.get('kdp_node_info')!.samples[0]!.labels).toEqual({ node: `${cluster}-n1`, cluster })

    // The Grafana dashboard of docs/ asks only for series a node serves.
    const served = new Set([...families.values()].flatMap((f) => f.samples.map((s) => s.name)))
    const grafana = readFileSync(join(repoRoot, 'docs', 'grafana-dashboard.json'), 'utf8')
    const asked = new Set(grafana.match(/\b(?:kdp|process|nodejs)_[a-z0-9_]+/g) ?? [])
    expect(asked.size).toBeGreaterThan(10)
    expect([...asked].filter((name) => !served.has(name))).toEqual([])
  })
})
