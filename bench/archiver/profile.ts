// Where the main thread of a worker spent its time, from a V8 `.cpuprofile` (`node --cpu-prof`).
// Work on libuv's thread pool (gzip through zlib's async API, fs) is not in it: the controller
// measures that with process.cpuUsage() (every thread) and a stand-alone gzip timing.
import { readFileSync } from 'node:fs'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly endTime: number
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

/** A short place name: `kafkajs/src/protocol/decoder.js`, `src/processes/archiver/archiver.js`, `node:zlib`. */
function place(url: string): string {
  if (url === '') return '(V8 built-in)'
  const kafkajs = url.indexOf('node_modules/kafkajs/')
  if (kafkajs >= 0) return url.slice(kafkajs + 'node_modules/'.length)
  const modules = url.lastIndexOf('node_modules/')
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length)
  const src = url.indexOf('/src/')
  if (src >= 0) return url.slice(src + 1)
  return url.replace(/^file:\/\//, '')
}

/** The category a frame's own time is counted under. */
function category(frame: ProfileNode['callFrame']): string {
  const { functionName: fn, url } = frame
  if (fn === '(idle)') return 'idle (waiting for I/O)'
  if (fn === '(garbage collector)') return 'garbage collection'
  if (fn === '(program)') return 'V8/native (program)'
  if (url.includes('node_modules/kafkajs/src/protocol')) return 'kafkajs: protocol decode/encode'
  if (url.includes('node_modules/kafkajs/')) return 'kafkajs: other (fetch loop, network, runner)'
  if (url.includes('node_modules/pino') || url.includes('node_modules/fastify')) return 'logging/http deps'
  if (url.includes('/src/processes/archiver/pathTemplate'))
    return 'kdp: path template (timeParts, renderPath)'
  if (url.includes('/src/processes/archiver/')) return 'kdp: archiver (prepare, rotation, flush)'
  if (url.includes('/src/sinks/')) return 'kdp: file sink'
  if (url.includes('/src/')) return 'kdp: other'
  if (url.startsWith('node:zlib') || url.includes('internal/zlib')) return 'node: zlib (JS side)'
  if (url.startsWith('node:internal/fs') || url.startsWith('node:fs')) return 'node: fs (JS side)'
  if (url.startsWith('node:internal/streams') || url.startsWith('node:net')) return 'node: net/streams'
  if (url.startsWith('node:')) return `node: other`
  if (url === '') {
    if (fn === 'parse') return 'built-in: JSON.parse'
    if (fn === 'formatToParts' || fn === 'DateTimeFormat') return 'built-in: Intl (formatToParts)'
    if (fn === 'toString' || fn === 'utf8Slice' || fn === 'latin1Slice') return 'built-in: Buffer → string'
    if (fn === 'concat' || fn === 'copy' || fn === '_copyActual') return 'built-in: Buffer.concat/copy'
    return `built-in: ${fn || '(anonymous)'}`
  }
  return 'other'
}

export interface ProfileSummary {
  /** Wall time the profile covers, ms. */
  readonly totalMs: number
  /** Main-thread time that was not idle, ms. */
  readonly busyMs: number
  /** Own (self) time per category, ms, largest first. */
  readonly byCategory: ReadonlyArray<readonly [string, number]>
  /** Own time per function, ms, the 25 largest. */
  readonly topFunctions: ReadonlyArray<readonly [string, number]>
  /** Inclusive time (the function and what it calls) of chosen functions, ms. */
  readonly inclusive: ReadonlyArray<readonly [string, number]>
}

/** Functions whose inclusive time tells where an archiver's time goes. */
const inclusiveOf = [
  'prepare',
  '#prepare',
  'timeParts',
  'renderPath',
  'parse',
  'onBatch',
  '#onBatch',
  'flush',
  '#flush',
  'encodeFile',
  'put',
  'commit',
  '#commit',
  'decode',
  'decodeMessages',
  'fetch',
  'processData',
]

export function summarizeProfile(path: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const categories = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame
    const cat = category(frame)
    categories.set(cat, (categories.get(cat) ?? 0) + us)
    const name = `${frame.functionName || '(anonymous)'} ${place(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`
    functions.set(name, (functions.get(name) ?? 0) + us)
  }
  // Inclusive time: walk the call tree, counting each sample once per chosen function on its stack.
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
  const inclusive = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const fn = byId.get(at)!.callFrame.functionName
      if (inclusiveOf.includes(fn) && !seen.has(fn)) {
        seen.add(fn)
        inclusive.set(fn, (inclusive.get(fn) ?? 0) + us)
      }
    }
  }
  const ms = (entries: Iterable<[string, number]>): Array<[string, number]> =>
    [...entries]
      .map(([k, us]) => [k, Math.round(us / 100) / 10] as [string, number])
      .sort((a, b) => b[1] - a[1])
  const totalMs = (profile.endTime - profile.startTime) / 1000
  const idleMs = (categories.get('idle (waiting for I/O)') ?? 0) / 1000
  return {
    totalMs: Math.round(totalMs),
    busyMs: Math.round(totalMs - idleMs),
    byCategory: ms(categories),
    topFunctions: ms(functions).slice(0, 25),
    inclusive: ms(inclusive),
  }
}
