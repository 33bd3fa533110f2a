import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { afterEach } from 'vitest'
import { type HttpApi, type HttpApiOptions, startHttpApi } from '../../src/http/server.js'
import type { ScalingRecommendation } from '../../src/processes/scaler/commands.js'
import { MemoryScalerConfigStore } from '../../src/processes/scaler/configStore.js'
import type { EventView, FeedEvent } from '../../src/processes/state/eventFeed.js'
import { MemoryConfigStore } from '../../src/processes/state/memoryConfigStore.js'
import type { ReportedNode, StatusView } from '../../src/processes/state/stores.js'
import type { TopicConfigFields } from '../../src/processes/state/topicConfig.js'
import type { LogFields, Logger } from '../../src/util/logging.js'

export { MemoryConfigStore, MemoryScalerConfigStore }

export const defaultFields: TopicConfigFields = {
  sinks: [],
  pathTemplate: 'dt={date}/hr={hour}',
  time: { field: null, format: 'epoch-ms', granularity: 'hour', timeZone: 'UTC' },
  rotation: {
    maxBytes: 64 * 1024 * 1024,
    maxRecords: 100_000,
    maxSpanMs: 3_600_000,
    maxAgeMs: null,
    idleMs: 60_000,
  },
  format: 'jsonl',
  compression: 'gzip',
  parquet: { schema: [] },
  sortBy: null,
  maxMessagesInFlight: 10_000,
  maxBytesInFlight: 32 * 1024 * 1024,
  parallelism: 'auto',
  badRecordPolicy: 'dlq',
  dlqTopic: null,
  paused: false,
}

export type { ReportedNode }

export class FakeStatusView implements StatusView {
  constructor(public reported: ReportedNode[] = []) {}
  nodes(): ReportedNode[] {
    return this.reported
  }
}

/** An events view in memory; `failing` makes `recent()` reject (the events topic unreadable). */
export class FakeEventView implements EventView {
  readonly #listeners = new Set<(event: FeedEvent) => void>()
  failing: Error | undefined
  constructor(public events: FeedEvent[] = []) {}
  async recent(): Promise<FeedEvent[]> {
    if (this.failing) throw this.failing
    return [...this.events]
  }
  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
  /** Appends an event and tells the listeners, as a record read from the topic would. */
  push(event: Omit<FeedEvent, 'offset'>): FeedEvent {
    const full = { offset: this.events.length, ...event }
    this.events.push(full)
    for (const listener of this.#listeners) listener(full)
    return full
  }
}

export function node(nodeId: string, overrides: Partial<ReportedNode> = {}): ReportedNode {
  return {
    nodeId,
    host: `${nodeId}.local`,
    pid: 1000,
    httpAddress: null,
    startedAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:05.000Z',
    cpuPercent: 12.5,
    rssBytes: 100_000_000,
    heapUsedBytes: 50_000_000,
    networkBytesPerSec: { received: 1000, sent: 2000 },
    processes: [],
    lag: 0,
    warnings: [],
    eventLoopDelayMs: 1.5,
    partitions: [],
    stoppedArchivers: [],
    instanceId: null,
    drain: null,
    assignedPartitions: {},
    lost: false,
    ...overrides,
  }
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly message: string
  readonly fields: LogFields
}

/** A Logger that keeps every entry (with its child bindings) for assertions. */
export function recordingLogger(
  entries: LogEntry[] = [],
  bindings: LogFields = {},
): Logger & { entries: LogEntry[] } {
  const at =
    (level: LogEntry['level']) =>
    (message: string, fields?: LogFields): void => {
      entries.push({ level, message, fields: { ...bindings, ...fields } })
    }
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(entries, { ...bindings, ...more }),
  }
}

/** The scaling routes' sources: a scaler config in memory and a settable recommendation. */
export class FakeScaling {
  readonly config = new MemoryScalerConfigStore()
  decided: ScalingRecommendation | undefined
  recommendation(): ScalingRecommendation | undefined {
    return this.decided
  }
}

export interface TestApi {
  readonly api: HttpApi
  readonly configs: MemoryConfigStore
  readonly scaling: FakeScaling
  readonly status: FakeStatusView
  readonly logger: ReturnType<typeof recordingLogger>
  readonly token: string
  url(path: string): string
  /** fetch with the bearer token. */
  write(path: string, init?: RequestInit): Promise<Response>
}

export const testToken = `kdp-test-token-${randomBytes(12).toString('hex')}`

const started: HttpApi[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((api) => api.stop()))
})

/** Starts the API on a free loopback port with fakes; stopped after each test. */
export async function startTestApi(
  options: Partial<HttpApiOptions> & {
    configs?: MemoryConfigStore
    status?: FakeStatusView
    scaling?: FakeScaling
  } = {},
): Promise<TestApi> {
  const configs = options.configs ?? new MemoryConfigStore()
  const scaling = options.scaling ?? new FakeScaling()
  const status = options.status ?? new FakeStatusView()
  const logger = recordingLogger()
  const token = 'token' in options ? options.token : testToken
  const api = await startHttpApi({ nodeId: 'node-a', logger, ...options, configs, status, scaling, token })
  started.push(api)
  return {
    api,
    configs,
    scaling,
    status,
    logger,
    token: token ?? '',
    url: (path) => `${api.address}${path}`,
    write: (path, init = {}) => {
      const headers = new Headers(init.headers)
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`)
      if (init.body !== undefined && !headers.has('content-type'))
        headers.set('content-type', 'application/json')
      return fetch(`${api.address}${path}`, { method: 'POST', ...init, headers })
    },
  }
}

export async function json(response: Response): Promise<unknown> {
  return JSON.parse(await response.text())
}

/** A request with the path sent exactly as given (fetch normalizes dot segments away). */
export function rawRequest(
  address: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(address)
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, path, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}
