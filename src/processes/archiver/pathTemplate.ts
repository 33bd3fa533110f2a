import { readJsonPath } from './recordFields.js'

export type Granularity = 'minute' | 'hour' | 'day'

interface TimeParts {
  yyyy: string
  MM: string
  dd: string
  HH: string
  mm: string
}

/** Template tokens that render a calendar field of the record time. */
const TIME_TOKENS = new Set(['date', 'hour', 'minute', 'yyyy', 'MM', 'dd', 'HH', 'mm'])

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  })
}

/** Calendar fields of `ms` in `timeZone`, cut to `granularity` (finer fields become "00"). */
export function timeParts(ms: number, timeZone: string, granularity: Granularity): TimeParts {
  return cut(minuteParts(ms, formatterFor(timeZone)), granularity)
}

function cut(parts: TimeParts, granularity: Granularity): TimeParts {
  return {
    ...parts,
    HH: granularity === 'day' ? '00' : parts.HH,
    mm: granularity === 'minute' ? parts.mm : '00',
  }
}

function minuteParts(ms: number, formatter: Intl.DateTimeFormat): TimeParts {
  const parts: Record<string, string> = {}
  for (const part of formatter.formatToParts(ms)) parts[part.type] = part.value
  return {
    yyyy: parts.year ?? '0000',
    MM: parts.month ?? '00',
    dd: parts.day ?? '00',
    HH: parts.hour ?? '00',
    mm: parts.minute ?? '00',
  }
}

/** A field value as one safe path segment: no slashes, no dot-only names, bounded length. */
export function pathSegment(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'unknown'
  const text = typeof value === 'string' ? value : (JSON.stringify(value) as string | undefined)
  if (text === undefined) return 'unknown'
  const safe = text.replace(/[^A-Za-z0-9._=-]/g, '_').slice(0, 100)
  return /^\.+$/.test(safe) ? 'unknown' : safe
}

/**
 * Renders an output path template. Time tokens: `{date}` (yyyy-MM-dd), `{hour}`, `{minute}`,
 * `{yyyy}` `{MM}` `{dd}` `{HH}` `{mm}`; field tokens: `{$.client}` (the record's value as a path
 * segment; `unknown` when missing); any other `{…}` is kept as written.
 * Example: `dt={date}/hr={hour}/client={$.client}`. Archivers use `PathRenderer`, which parses once.
 */
export function renderPath(template: string, time: TimeParts, record: unknown): string {
  return joinTokens(parseTemplate(template), time, record)
}

/** True when the template reads record fields (so every record must parse as JSON). */
export function templateReadsFields(template: string): boolean {
  return parseTemplate(template).some((token) => token.kind === 'field')
}

type Token = { kind: 'text'; text: string } | { kind: 'time'; name: string } | { kind: 'field'; path: string }

function parseTemplate(template: string): Token[] {
  const tokens: Token[] = []
  let at = 0
  for (const match of template.matchAll(/\{([^}]+)\}/g)) {
    if (match.index > at) tokens.push({ kind: 'text', text: template.slice(at, match.index) })
    const name = match[1] as string
    if (TIME_TOKENS.has(name)) tokens.push({ kind: 'time', name })
    else if (name.startsWith('$')) tokens.push({ kind: 'field', path: name })
    else tokens.push({ kind: 'text', text: match[0] })
    at = match.index + match[0].length
  }
  if (at < template.length) tokens.push({ kind: 'text', text: template.slice(at) })
  return tokens
}

function joinTokens(tokens: readonly Token[], time: TimeParts, record: unknown): string {
  let path = ''
  for (const token of tokens) {
    if (token.kind === 'text') path += token.text
    else if (token.kind === 'time') path += timeToken(token.name, time)
    else path += pathSegment(readJsonPath(record, token.path))
  }
  return path
}

function timeToken(name: string, time: TimeParts): string {
  switch (name) {
    case 'date':
      return `${time.yyyy}-${time.MM}-${time.dd}`
    case 'hour':
      return time.HH
    case 'minute':
      return time.mm
    default:
      return time[name as keyof TimeParts]
  }
}

/**
 * One archiver's output paths: the template parsed once, and the time fields formatted once per
 * minute of record time (records arrive mostly in time order; `formatToParts` costs ~7 µs). A
 * template without field tokens renders once per minute too.
 */
export class PathRenderer {
  readonly #tokens: readonly Token[]
  /** The template reads record fields (so every record must parse as JSON). */
  readonly readsFields: boolean
  readonly #formatter: Intl.DateTimeFormat
  #minute = Number.NaN
  #time: TimeParts = { yyyy: '0000', MM: '00', dd: '00', HH: '00', mm: '00' }
  #timeOnlyPath = ''

  constructor(
    template: string,
    timeZone: string,
    private readonly granularity: Granularity,
  ) {
    this.#tokens = parseTemplate(template)
    this.readsFields = this.#tokens.some((token) => token.kind === 'field')
    this.#formatter = formatterFor(timeZone)
  }

  /** The path for a record with time `ms` and (parsed) value `record`; the same as `renderPath`. */
  render(ms: number, record: unknown): string {
    // Time zones have whole-minute offsets, so every instant of a UTC minute has the same fields.
    const minute = Math.floor(ms / 60_000)
    if (minute !== this.#minute) {
      this.#minute = minute
      this.#time = cut(minuteParts(ms, this.#formatter), this.granularity)
      if (!this.readsFields) this.#timeOnlyPath = joinTokens(this.#tokens, this.#time, undefined)
    }
    return this.readsFields ? joinTokens(this.#tokens, this.#time, record) : this.#timeOnlyPath
  }
}
