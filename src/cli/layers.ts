// Where each setting of a command comes from — flag > environment variable > config file >
// default — and the decoding of the winning value with io-ts, with one message per bad value that
// names the flag, the variable or the file field it came from.
import { isLeft } from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { fieldErrors } from '../util/decode.js'
import { yesNo } from './values.js'

/** One setting of a command: its flag, its environment variable, its config-file field, its help. */
export interface FlagSpec {
  /** `http-port` for `--http-port`; also the setting's key in the decoded values. */
  readonly name: string
  /** `false`: no flag at all (a password: only from the environment or a file). */
  readonly cli?: false
  readonly short?: string
  readonly env?: string
  /** The field of the config file, as a dotted path (`http.port`). */
  readonly file?: string
  /** A boolean whose config-file field says the opposite of the flag (`--no-progress`, `progress`). */
  readonly fileNegates?: true
  /** How `--print-config` writes the decoded value so that it reads back (a duration in ms as `500ms`). */
  readonly printAs?: (value: unknown) => unknown
  /** `list`: a text that may be repeated; the occurrences are joined with commas. */
  readonly kind: 'string' | 'boolean' | 'list'
  /** `<host:port,...>` in the help text. */
  readonly placeholder?: string
  /** The default as shown in the help text. */
  readonly defaultText?: string
  readonly required?: boolean
  readonly description: string
  /** Never echo the value in a message (tokens, passwords). */
  readonly secret?: boolean
  /** The heading the flag is listed under in the help (default `Options:`). */
  readonly group?: string
}

export type Environment = Readonly<Record<string, string | undefined>>

/** Where a value came from. */
export type Source = 'flag' | 'env' | 'file'

/** The winning value of every setting that has one, and where it came from. */
export interface Layered {
  readonly values: Readonly<Record<string, unknown>>
  readonly sources: Readonly<Record<string, Source>>
  /** The config file, when one was read. */
  readonly file: string | undefined
}

/** A problem a command found in its settings: the lines of its message. */
export class UsageError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('\n'))
    this.name = 'UsageError'
  }
}

/** The opposite of a yes/no value (`true`, `"no"`...); anything else as it is, for the codec to refuse. */
function negated(value: unknown): unknown {
  if (typeof value === 'boolean') return !value
  const answer = typeof value === 'string' ? yesNo(value) : undefined
  return answer === undefined ? value : !answer
}

/**
 * Stacks the layers: a flag given on the command line, else its environment variable (an empty
 * one counts as unset), else the config file's field.
 */
export function layer(
  specs: readonly FlagSpec[],
  flags: Readonly<Record<string, string | boolean>>,
  env: Environment,
  file: { readonly path: string; readonly values: Readonly<Record<string, unknown>> } | undefined,
): Layered {
  const values: Record<string, unknown> = {}
  const sources: Record<string, Source> = {}
  for (const spec of specs) {
    const fromEnv = spec.env === undefined ? undefined : env[spec.env]
    if (flags[spec.name] !== undefined) {
      values[spec.name] = flags[spec.name]
      sources[spec.name] = 'flag'
    } else if (fromEnv !== undefined && fromEnv !== '') {
      values[spec.name] = fromEnv
      sources[spec.name] = 'env'
    } else if (file?.values[spec.name] !== undefined) {
      const value = file.values[spec.name]
      values[spec.name] = spec.fileNegates ? negated(value) : value
      sources[spec.name] = 'file'
    }
  }
  return { values, sources, file: file?.path }
}

/** How a message names a setting's value: `--http-port`, `--http-port (from KDP_HTTP_PORT)`, `http.port in kdp.json`. */
export function whereFrom(spec: FlagSpec, layered: Layered): string {
  const flag = spec.cli === false ? spec.env : `--${spec.name}`
  switch (layered.sources[spec.name]) {
    case 'env':
      return spec.cli === false ? `${spec.env}` : `${flag} (from ${spec.env})`
    case 'file':
      return `${spec.file} in ${layered.file}`
    default:
      return flag ?? spec.name
  }
}

/** Every way to give a setting: `--brokers (or KDP_BROKERS, or brokers in the config file)`. */
export function waysToGive(spec: FlagSpec): string {
  const others = [
    ...(spec.cli !== false && spec.env !== undefined ? [spec.env] : []),
    ...(spec.file !== undefined ? [`${spec.file} in the config file`] : []),
  ]
  const first = spec.cli === false ? (spec.env ?? spec.file ?? spec.name) : `--${spec.name}`
  return others.length > 0 ? `${first} (or ${others.join(', or ')})` : first
}

/** The first sentence of a flag's description. */
function summary(spec: FlagSpec): string {
  return spec.description.split(/\.(?:\s|$)/)[0] ?? ''
}

/**
 * Decodes the layered values with `codec` (an io-ts `t.type` keyed by setting name). Every bad
 * value gives one line naming where it came from; a missing required one names every way to give it.
 */
export function decodeLayers<C extends t.Any>(
  specs: readonly FlagSpec[],
  codec: C,
  layered: Layered,
): { kind: 'ok'; value: t.TypeOf<C> } | { kind: 'error'; lines: string[] } {
  const result = codec.decode(layered.values)
  if (!isLeft(result)) return { kind: 'ok', value: result.right as t.TypeOf<C> }
  const lines = fieldErrors(result.left).map((error) => {
    const name = error.path.split('.')[0] ?? ''
    const spec = specs.find((s) => s.name === name)
    if (!spec) return `${error.path || 'options'}: ${error.message}`
    if (layered.values[name] === undefined) return `missing ${waysToGive(spec)}: ${summary(spec)}`
    return `invalid ${whereFrom(spec, layered)}: ${error.message}`
  })
  return { kind: 'error', lines }
}
