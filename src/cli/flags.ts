// Shared machinery of kdp's command-line tools: flags and environment variables read with
// node:util parseArgs (strict), decoded with io-ts, with one clear message per bad value.
import { isIP } from 'node:net'
import { parseArgs } from 'node:util'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { fieldErrors } from '../util/decode.js'

/** One flag of a command, with its environment variable and its line in `--help`. */
export interface FlagSpec {
  /** `http-port` for `--http-port`. */
  readonly name: string
  readonly short?: string
  readonly env?: string
  /** `list`: a string that may be repeated; the occurrences are joined with commas. */
  readonly kind: 'string' | 'boolean' | 'list'
  /** `<host:port,...>` in the help text. */
  readonly placeholder?: string
  /** The default as shown in the help text. */
  readonly defaultText?: string
  readonly required?: boolean
  readonly description: string
  /** Never echo the value in a message (tokens). */
  readonly secret?: boolean
}

/** A flag's raw value: the text of the flag or environment variable, `true` for a boolean flag. */
export type RawValue = string | boolean | undefined
export type Source = 'flag' | 'env'

export type RawFlags =
  | {
      readonly kind: 'ok'
      readonly values: Readonly<Record<string, RawValue>>
      readonly sources: Readonly<Record<string, Source>>
    }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'error'; readonly message: string }

/** A command's name (the prefix of its messages) and how a user asks for its help. */
export interface Program {
  readonly name: string
  readonly helpCommand: string
}

export function usageHint(program: Program): string {
  return `Run '${program.helpCommand}' for usage.`
}

function errorMessage(program: Program, lines: readonly string[]): string {
  return `${lines.map((line) => `${program.name}: ${line}`).join('\n')}\n${usageHint(program)}`
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length] ?? 0
}

function suggestion(specs: readonly FlagSpec[], unknown: string): string {
  const name = unknown.replace(/^-+/, '').split('=')[0]?.toLowerCase() ?? ''
  if (name.length < 2) return ''
  let best: { name: string; d: number } | undefined
  for (const spec of specs) {
    const d = spec.name.startsWith(name) ? 1 : distance(name, spec.name)
    if (d <= 2 && (best === undefined || d < best.d)) best = { name: spec.name, d }
  }
  return best ? ` (did you mean --${best.name}?)` : ''
}

/** Turns a parseArgs error into a message naming the flag. */
function parseArgsMessage(specs: readonly FlagSpec[], error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown }).code
  const long = /(--[A-Za-z0-9][A-Za-z0-9-]*)/.exec(message)?.[1]
  const short = /'(-[A-Za-z0-9])'/.exec(message)?.[1]
  const flag = long ?? short ?? 'a flag'
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag}${suggestion(specs, flag)}`
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const argument = /argument '([^']*)'/.exec(message)?.[1] ?? ''
      return `unexpected argument '${argument}': this command takes flags only`
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(message)) return `${flag} takes no value`
      if (/ambiguous/.test(message)) {
        return `${flag} needs a value (write ${flag}=<value> for a value that starts with '-')`
      }
      return `${flag} needs a value`
    default:
      return message.split('\n')[0] ?? message
  }
}

/**
 * Reads `argv` (strict: unknown flags and positional arguments are errors) and then `env` for
 * every flag that was not given. An empty environment variable counts as unset. `--help` and
 * `--version` win over everything else, even over a malformed command line.
 */
export function readFlags(
  program: Program,
  specs: readonly FlagSpec[],
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): RawFlags {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {}
  for (const spec of specs) {
    options[spec.name] = {
      type: spec.kind === 'boolean' ? 'boolean' : 'string',
      ...(spec.short !== undefined && { short: spec.short }),
      ...(spec.kind === 'list' && { multiple: true }),
    }
  }
  let parsed: Record<string, string | boolean | Array<string | boolean> | undefined>
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values
  } catch (error) {
    if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' }
    if (argv.includes('--version') && specs.some((s) => s.name === 'version')) return { kind: 'version' }
    return { kind: 'error', message: errorMessage(program, [parseArgsMessage(specs, error)]) }
  }
  if (parsed.help === true) return { kind: 'help' }
  if (parsed.version === true) return { kind: 'version' }

  const values: Record<string, RawValue> = {}
  const sources: Record<string, Source> = {}
  for (const spec of specs) {
    const given = parsed[spec.name]
    if (given !== undefined) {
      values[spec.name] = Array.isArray(given) ? given.map(String).join(',') : given
      sources[spec.name] = 'flag'
      continue
    }
    const fromEnv = spec.env === undefined ? undefined : env[spec.env]
    if (fromEnv !== undefined && fromEnv !== '') {
      values[spec.name] = fromEnv
      sources[spec.name] = 'env'
    }
  }
  return { kind: 'ok', values, sources }
}

/**
 * Decodes the raw values with `codec` (an io-ts `t.type` keyed by flag name). Every bad value gives
 * one line naming the flag, and the environment variable when the value came from there.
 */
export function decodeFlags<C extends t.Any>(
  program: Program,
  specs: readonly FlagSpec[],
  codec: C,
  raw: Extract<RawFlags, { kind: 'ok' }>,
): { kind: 'ok'; value: t.TypeOf<C> } | { kind: 'error'; message: string } {
  const result = codec.decode(raw.values)
  if (!isLeft(result)) return { kind: 'ok', value: result.right as t.TypeOf<C> }
  const lines = fieldErrors(result.left).map((error) => {
    const name = error.path.split('.')[0] ?? ''
    const spec = specs.find((s) => s.name === name)
    if (!spec) return `${error.path || 'options'}: ${error.message}`
    const value = raw.values[name]
    if (value === undefined) {
      return `missing ${flagAndEnv(spec)}: ${summary(spec)}`
    }
    const where = raw.sources[name] === 'env' ? `--${spec.name} (from ${spec.env})` : `--${spec.name}`
    return `invalid ${where}: ${error.message}`
  })
  return { kind: 'error', message: errorMessage(program, lines) }
}

/** The first sentence of a flag's description. */
function summary(spec: FlagSpec): string {
  return (spec.description.split('\n')[0] ?? '').split(/\.(?:\s|$)/)[0] ?? ''
}

function flagAndEnv(spec: FlagSpec): string {
  return spec.env === undefined ? `--${spec.name}` : `--${spec.name} (or ${spec.env})`
}

/** Help text: a line per flag with its value, environment variable and default, then its description. */
export function optionsHelp(specs: readonly FlagSpec[]): string {
  return specs
    .map((spec) => {
      const names = `${spec.short !== undefined ? `-${spec.short}, ` : ''}--${spec.name}${
        spec.placeholder !== undefined ? ` ${spec.placeholder}` : ''
      }`
      const notes = [
        ...(spec.env !== undefined ? [`env ${spec.env}`] : []),
        ...(spec.required ? ['required'] : []),
        ...(spec.defaultText !== undefined ? [`default ${spec.defaultText}`] : []),
      ]
      const head = notes.length > 0 ? `  ${names.padEnd(34)} ${notes.join(', ')}` : `  ${names}`
      return `${head}\n      ${spec.description}`
    })
    .join('\n')
}

// ---- codecs: a raw value (string | boolean | undefined) to a typed value -----------------------

/** Shows a rejected value in a message, shortened. */
export function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
}

/**
 * A codec from a flag's text: `parse` returns the value or a reason (without the value: it is added
 * here unless the flag is secret). A missing value decodes to `fallback`, or fails when there is none.
 */
export function fromText<A>(
  name: string,
  parse: (text: string) => { ok: A } | { reason: string },
  options: { fallback?: A; secret?: boolean } = {},
): t.Type<A, unknown, unknown> {
  return new t.Type<A, unknown, unknown>(
    name,
    (u): u is A => false,
    (input, context) => {
      if (input === undefined) {
        return 'fallback' in options ? t.success(options.fallback as A) : t.failure(input, context, 'missing')
      }
      if (typeof input !== 'string') return t.failure(input, context, 'expected a value')
      const result = parse(input)
      if ('ok' in result) return t.success(result.ok)
      // Secret values are never shown; a reason that already quotes the value does not repeat it.
      const got = options.secret || result.reason.includes(shown(input)) ? '' : `, got ${shown(input)}`
      return t.failure(input, context, `${result.reason}${got}`)
    },
    (a) => a,
  )
}

/** A boolean flag; from the environment `1/true/yes/on` or `0/false/no/off`. */
export function booleanFlag(fallback: boolean): t.Type<boolean, unknown, unknown> {
  return new t.Type<boolean, unknown, unknown>(
    'BooleanFlag',
    (u): u is boolean => typeof u === 'boolean',
    (input, context) => {
      if (input === undefined) return t.success(fallback)
      if (typeof input === 'boolean') return t.success(input)
      if (typeof input === 'string') {
        const text = input.trim().toLowerCase()
        if (['1', 'true', 'yes', 'on'].includes(text)) return t.success(true)
        if (['0', 'false', 'no', 'off'].includes(text)) return t.success(false)
      }
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
export function parseHostPort(text: string): { ok: string } | { reason: string } {
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
export const brokersCodec = fromText<string[]>('Brokers', (text) => {
  const items = splitList(text)
  if (items.length === 0) return { reason: 'expected at least one host:port' }
  for (const item of items) {
    const checked = parseHostPort(item)
    if ('reason' in checked) return checked
  }
  return { ok: items }
})

/** A whole number in [min, max]. */
export function integerText(text: string, min: number, max: number): { ok: number } | { reason: string } {
  const trimmed = text.trim().replace(/_/g, '')
  const value = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN
  if (!Number.isSafeInteger(value)) return { reason: 'expected a whole number' }
  if (value < min || value > max) return { reason: `expected a number from ${min} to ${max}` }
  return { ok: value }
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
export function parseSize(text: string): { ok: number } | { reason: string } {
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
export function parseDuration(text: string): { ok: number } | { reason: string } {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (!match) return { reason: 'expected a duration such as 30s, 5m, 2h or 500ms' }
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  const ms = Math.round(Number(match[1]) * factor)
  if (!Number.isSafeInteger(ms) || ms < 1) return { reason: 'expected a duration of at least 1 ms' }
  return { ok: ms }
}

/** Human-readable bytes for help texts and progress lines. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const digits = unit === 0 || Number.isInteger(value) ? 0 : 1
  return `${value.toFixed(digits)} ${units[unit]}`
}
