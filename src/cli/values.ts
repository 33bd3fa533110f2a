// The value parsers of kdp's command-line tools, shared by `kdp-archiver` and `kdp-loadgen`: each
// turns the text of a flag or an environment variable (or a value of a config file) into a typed
// value, or into a reason naming what was expected.
import { isIP } from 'node:net'
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { inspect } from 'node:util'
import * as t from 'io-ts'

/** What a parser returns: the value, or why the text is not one (without the text itself). */
export type Parsed<A> = { readonly ok: A } | { readonly reason: string }

/** A secret that does not show itself: printing, logging or JSON-encoding it gives `[redacted]`. */
export class Secret {
  readonly #value: string
  constructor(value: string) {
    this.#value = value
  }
  reveal(): string {
    return this.#value
  }
  toString(): string {
    return '[redacted]'
  }
  toJSON(): string {
    return '[redacted]'
  }
  [inspect.custom](): string {
    return '[redacted]'
  }
}

/**
 * `text` with every occurrence of the secrets' values replaced by `[redacted]`: for messages of
 * errors raised elsewhere (a library, a broker), which might quote what they were given.
 */
export function redactSecrets(text: string, secrets: readonly (Secret | undefined)[]): string {
  let redacted = text
  for (const secret of secrets) {
    const value = secret?.reveal()
    // Very short values would redact ordinary words; they are not worth a secret's name anyway.
    if (value !== undefined && value.length >= 4) redacted = redacted.split(value).join('[redacted]')
  }
  return redacted
}

/** Shows a rejected value in a message, shortened. */
export function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
}

/**
 * A codec from a value's text: `parse` returns the value or a reason (the rejected text is added
 * here unless the value is secret). A number (from a config file) is parsed as its decimal text.
 * A missing value decodes to `fallback`, or fails with `missing` when there is none.
 */
export function fromText<A>(
  name: string,
  parse: (text: string) => Parsed<A>,
  options: { fallback?: A; secret?: boolean } = {},
): t.Type<A, unknown, unknown> {
  return new t.Type<A, unknown, unknown>(
    name,
    (_u): _u is A => false,
    (input, context) => {
      if (input === undefined) {
        return 'fallback' in options ? t.success(options.fallback as A) : t.failure(input, context, 'missing')
      }
      const text = typeof input === 'number' && Number.isFinite(input) ? String(input) : input
      if (typeof text !== 'string') return t.failure(input, context, 'expected a text value')
      const result = parse(text)
      if ('ok' in result) return t.success(result.ok)
      // Secret values are never shown; a reason that already quotes the value does not repeat it.
      const got = options.secret || result.reason.includes(shown(text)) ? '' : `, got ${shown(text)}`
      return t.failure(input, context, `${result.reason}${got}`)
    },
    (a) => a,
  )
}

/**
 * A codec of a list: a comma-separated text (see splitList) or, from a config file, an array of
 * texts; `parse` checks the items. A missing value decodes to `fallback`.
 */
export function fromList<A>(
  name: string,
  parse: (items: readonly string[]) => Parsed<A>,
  options: { fallback?: A } = {},
): t.Type<A, unknown, unknown> {
  const text = fromText(name, (s) => parse(splitList(s)), options)
  return new t.Type<A, unknown, unknown>(
    name,
    (_u): _u is A => false,
    (input, context) => {
      if (!Array.isArray(input)) return text.validate(input, context)
      const items: unknown[] = input
      const bad = items.findIndex((item) => typeof item !== 'string' || item.trim() === '')
      if (bad >= 0) return t.failure(input, context, `expected a list of texts (item ${bad} is not one)`)
      const result = parse(items.map((item) => String(item).trim()))
      return 'ok' in result ? t.success(result.ok) : t.failure(input, context, result.reason)
    },
    (a) => a,
  )
}

/** `1/true/yes/on` → true, `0/false/no/off` → false (any case), anything else undefined. */
export function yesNo(text: string): boolean | undefined {
  const word = text.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(word)) return true
  if (['0', 'false', 'no', 'off'].includes(word)) return false
  return undefined
}

/** A yes/no value: `true`/`false` (a flag without a value, a config file), or `1/true/yes/on`, `0/false/no/off`. */
export function booleanFlag(fallback: boolean): t.Type<boolean, unknown, unknown> {
  return new t.Type<boolean, unknown, unknown>(
    'BooleanFlag',
    (u): u is boolean => typeof u === 'boolean',
    (input, context) => {
      if (input === undefined) return t.success(fallback)
      if (typeof input === 'boolean') return t.success(input)
      const answer = typeof input === 'string' ? yesNo(input) : undefined
      if (answer !== undefined) return t.success(answer)
      return t.failure(input, context, `expected true/false (1/0), got ${shown(String(input))}`)
    },
    (a) => a,
  )
}

/** Splits on commas that are not inside (), [] or {} and not escaped: `a{1,3},b` is two items. */
export function splitList(text: string): string[] {
  const items: string[] = []
  let depth = 0
  let current = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? ''
    if (c === '\\' && i + 1 < text.length) {
      current += c + (text[i + 1] ?? '')
      i++
      continue
    }
    if (c === '(' || c === '[' || c === '{') depth++
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--
    if (c === ',' && depth === 0) {
      items.push(current.trim())
      current = ''
    } else current += c
  }
  items.push(current.trim())
  return items.filter((item) => item.length > 0)
}

const hostnamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** A host name, an IPv4 address or an IPv6 address (bare or in brackets). */
export function isHost(text: string): boolean {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  return hostnamePattern.test(text) || isIP(bare) !== 0
}

/** `host:port` (IPv6 hosts in brackets), port 1..65535. */
export function parseHostPort(text: string): Parsed<string> {
  const match = /^(.+):(\d{1,5})$/.exec(text)
  const host = match?.[1]
  const port = Number(match?.[2])
  if (!match || host === undefined) return { reason: `expected host:port in ${shown(text)}` }
  if (!isHost(host) || (host.includes(':') && !host.startsWith('['))) {
    return { reason: `bad host in ${shown(text)} (write IPv6 addresses as [::1]:9092)` }
  }
  if (!(port >= 1 && port <= 65_535)) return { reason: `port out of range 1..65535 in ${shown(text)}` }
  return { ok: text }
}

/** A list of Kafka brokers, `host:port,host:port`. */
export const brokersCodec = fromList<string[]>('Brokers', (items) => {
  if (items.length === 0) return { reason: 'expected at least one host:port' }
  for (const item of items) {
    const checked = parseHostPort(item)
    if ('reason' in checked) return checked
  }
  return { ok: [...items] }
})

/** A whole number in [min, max]. */
export function integerText(text: string, min: number, max: number): Parsed<number> {
  const trimmed = text.trim().replace(/_/g, '')
  const value = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN
  if (!Number.isSafeInteger(value)) return { reason: 'expected a whole number' }
  if (value < min || value > max) return { reason: `expected a number from ${min} to ${max}` }
  return { ok: value }
}

/** A codec of a whole number in [min, max]. */
export function wholeNumber(min: number, max: number, fallback?: number): t.Type<number, unknown, unknown> {
  return fromText<number>(
    'Integer',
    (s) => integerText(s, min, max),
    fallback === undefined ? {} : { fallback },
  )
}

/** `codec`, or undefined when the value is missing. */
export function optional<A>(codec: t.Type<A, unknown, unknown>): t.Type<A | undefined, unknown, unknown> {
  return new t.Type<A | undefined, unknown, unknown>(
    `Optional<${codec.name}>`,
    (u): u is A | undefined => u === undefined || codec.is(u),
    (input, context) => (input === undefined ? t.success(undefined) : codec.validate(input, context)),
    (a) => a,
  )
}

const sizeUnits: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
}

/**
 * A size in bytes: `268435456`, `256MiB`, `1GiB`, `1.5 GiB`, `64MB`, `512KiB` (case-insensitive;
 * KB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024).
 */
export function parseSize(text: string): Parsed<number> {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*$/.exec(text.replace(/_/g, ''))
  const unit = (match?.[2] ?? '').toLowerCase()
  const factor = unit === '' ? 1 : sizeUnits[unit]
  if (!match || factor === undefined) {
    return { reason: 'expected a size such as 268435456, 256MiB, 1GiB or 64MB' }
  }
  const bytes = Math.floor(Number(match[1]) * factor)
  if (!Number.isSafeInteger(bytes) || bytes < 1) return { reason: 'expected a size of at least 1 byte' }
  return { ok: bytes }
}

/** A duration: `500ms`, `30s`, `5m`, `2h`, or a bare number of seconds. Returns milliseconds. */
export function parseDuration(text: string): Parsed<number> {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (!match) return { reason: 'expected a duration such as 30s, 5m, 2h or 500ms' }
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  const ms = Math.round(Number(match[1]) * factor)
  if (!Number.isSafeInteger(ms) || ms < 1) return { reason: 'expected a duration of at least 1 ms' }
  return { ok: ms }
}

/** A Kafka topic name: 1-249 of `A-Z a-z 0-9 . _ -`, not `.` or `..`. */
export function parseTopicName(text: string): Parsed<string> {
  return /^[A-Za-z0-9._-]{1,249}$/.test(text) && text !== '.' && text !== '..'
    ? { ok: text }
    : { reason: 'expected a Kafka topic name: 1-249 of A-Z a-z 0-9 . _ -' }
}

/**
 * `s3://…` and `file:///…` as given; `file://./dir`, `file://../dir`, `file://dir` (no host
 * support) and plain paths resolved against `cwd` to `file:///absolute/dir`.
 */
export function resolveSinkUrl(text: string, cwd: string): Parsed<string> {
  const trimmed = text.trim()
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(trimmed)?.[1]
  if (scheme === undefined) {
    if (trimmed === '') return { reason: 'expected a sink URL' }
    return { ok: directoryUrl(isAbsolute(trimmed) ? trimmed : resolve(cwd, trimmed)) }
  }
  if (scheme === 's3') return { ok: trimmed }
  if (scheme !== 'file') return { reason: `unsupported sink scheme '${scheme}://' (use s3:// or file://)` }
  const path = trimmed.slice('file://'.length).replace(/^localhost(?=\/)/, '')
  if (path.startsWith('/')) {
    if (path.length <= 1) return { reason: 'expected a directory below / in the file:// URL' }
    return { ok: `file://${path.replace(/\/+$/, '')}` }
  }
  if (path === '' || path === '.') return { ok: directoryUrl(cwd) }
  if (path.startsWith('~')) return { reason: 'expected an absolute path (~ is not expanded)' }
  if (/^(\.\.?\/|[^/]+$)/.test(path)) return { ok: directoryUrl(resolve(cwd, path)) }
  return {
    reason: 'file:// URLs with a host are not supported: use file:///absolute/dir or file://./relative/dir',
  }
}

function directoryUrl(path: string): string {
  return pathToFileURL(path).href.replace(/\/+$/, '')
}

/** Regular expressions, each compiled (anchored, as the master does) to check it. */
export function parseRegexList(items: readonly string[]): Parsed<string[]> {
  if (items.length === 0) return { reason: 'expected at least one regular expression' }
  for (const item of items) {
    try {
      // On its own (so that `a)|(b` cannot escape the anchors), and as the master compiles it.
      new RegExp(item)
      new RegExp(`^(?:${item})$`)
    } catch (error) {
      const reason =
        error instanceof Error ? error.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '') : ''
      return { reason: `invalid regular expression ${JSON.stringify(item)}: ${reason}` }
    }
  }
  return { ok: [...items] }
}
