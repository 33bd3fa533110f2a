// The command line of kdp's tools on commander: flags, help, suggestions and errors come from it;
// the layers below a flag (environment variable, default) and the decoding of every value with
// io-ts are here, so that one bad value gives one line naming the flag and where the value came from.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { isLeft } from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { fieldErrors } from '../util/decode.js'

/** One flag of a command, with its environment variable and its line in `--help`. */
export interface FlagSpec {
  /** `http-port` for `--http-port`. */
  readonly name: string
  readonly short?: string
  readonly env?: string
  /** `list`: a text that may be repeated; the occurrences are joined with commas. */
  readonly kind: 'string' | 'boolean' | 'list'
  /** `<host:port,...>` in the help text. */
  readonly placeholder?: string
  /** The default as shown in the help text. */
  readonly defaultText?: string
  readonly required?: boolean
  readonly description: string
  /** Never echo the value in a message (tokens). */
  readonly secret?: boolean
  /** The heading the flag is listed under in the help (default `Options:`). */
  readonly group?: string
}

/** A command: its name (the prefix of every message), its help texts and its version line. */
export interface Program {
  readonly name: string
  /** What follows the name in the help's `Usage:` line. */
  readonly usage: string
  /** The paragraphs between the usage line and the options. */
  readonly description: string
  /** The text after the options (environment, examples). */
  readonly epilog: string
  readonly version: string
}

/** What parsing a command line gives: options to run with, a text to print, or an error (exit 2). */
export type CliResult<O = unknown> =
  | { readonly kind: 'run'; readonly options: O }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version'; readonly text: string }
  | { readonly kind: 'error'; readonly message: string }

/** Where a value came from. */
export type Source = 'flag' | 'env'

/** A flag's raw value: its text, `true` for a boolean flag. */
export type RawValue = string | boolean

export interface RawFlags {
  readonly values: Readonly<Record<string, RawValue>>
  readonly sources: Readonly<Record<string, Source>>
}

export type Environment = Readonly<Record<string, string | undefined>>

function usageHint(program: Program): string {
  return `Run '${program.name} --help' for usage.`
}

/** The message of a bad command line: one line per problem, each prefixed with the program's name. */
function errorMessage(program: Program, lines: readonly string[]): string {
  return `${lines.map((line) => `${program.name}: ${line}`).join('\n')}\n${usageHint(program)}`
}

function optionFlags(spec: FlagSpec): string {
  const short = spec.short !== undefined ? `-${spec.short}, ` : ''
  const value = spec.kind === 'boolean' ? '' : ` ${spec.placeholder ?? '<value>'}`
  return `${short}--${spec.name}${value}`
}

/**
 * The commander program of `specs`. It parses the command line only: environment variables are
 * read by readFlags from the environment it is given (commander's own `.env()` reads
 * `process.env`, and treats any value of a boolean's variable as "on"). Nothing is written and
 * nothing exits: help, version and errors come back as values.
 */
function buildCommand(
  program: Program,
  specs: readonly FlagSpec[],
  output: { text: string },
  refused: { message?: string },
): Command {
  const bySpec = new Map<string, FlagSpec>()
  const known = new Set(['-h', '--help', '--version'])
  for (const spec of specs) {
    known.add(`--${spec.name}`)
    if (spec.short !== undefined) known.add(`-${spec.short}`)
  }
  const command = new Command(program.name)
    .usage(program.usage)
    .description(program.description)
    .helpOption('-h, --help', 'Show this help and exit.')
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        output.text += text
      },
      writeErr: () => {},
      outputError: () => {},
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .configureHelp({
      helpWidth: 100,
      optionDescription: (option) => describeOption(option, bySpec.get(option.long ?? '')),
    })
    .addHelpText('after', `\n${program.epilog}`)
    .action(() => {})
  for (const spec of specs) {
    const option = new Option(optionFlags(spec), spec.description)
    bySpec.set(`--${spec.name}`, spec)
    if (spec.group !== undefined) option.helpGroup(spec.group)
    if (spec.kind !== 'boolean') {
      option.argParser((value: string, previous: string | undefined) => {
        // commander takes the next argument as the value even when it is the next flag
        // (`--brokers --sink x`): say what is missing instead of decoding `--sink` as brokers.
        if (known.has(value.split('=')[0] ?? '')) {
          refused.message = `--${spec.name} needs a value (write --${spec.name}=<value> for a value that starts with '-')`
          throw new InvalidArgumentError(refused.message)
        }
        return spec.kind === 'list' && previous !== undefined ? `${previous},${value}` : value
      })
    }
    command.addOption(option)
  }
  // After the flags, so that the help lists it last but for --help.
  return command.version(program.version, '--version', 'Show the version and exit.')
}

/**
 * A flag's entry in the help: its description, then a line saying whether it is required, its
 * variable and its default (on a line of its own, so that wrapping never splits `default 8080`).
 */
function describeOption(option: Option, spec: FlagSpec | undefined): string {
  if (spec === undefined) return option.description
  const notes = [
    ...(spec.required ? ['required'] : []),
    ...(spec.env !== undefined ? [`env ${spec.env}`] : []),
    ...(spec.defaultText !== undefined ? [`default ${spec.defaultText}`] : []),
  ]
  return notes.length > 0 ? `${spec.description}\n${notes.join(', ')}` : spec.description
}

/** commander's message for a bad command line, in kdp's words where they say more. */
function commanderProblem(error: CommanderError, command: Command, specs: readonly FlagSpec[]): string {
  const text = error.message.replace(/^error: /, '')
  switch (error.code) {
    case 'commander.unknownOption': {
      const flag = /'([^']*)'/.exec(text)?.[1] ?? ''
      const name = flag.split('=')[0] ?? ''
      const spec = specs.find((s) => `--${s.name}` === name)
      if (flag.includes('=') && spec?.kind === 'boolean') return `--${spec.name} takes no value`
      // "unknown option '--brokerz'\n(Did you mean --brokers?)" on one line.
      return text.replace(/\n\(Did you mean/, ' (did you mean')
    }
    case 'commander.optionMissingArgument': {
      const flag = /'(?:-\w, )?(--[\w-]+)/.exec(text)?.[1] ?? 'a flag'
      return `${flag} needs a value`
    }
    case 'commander.excessArguments':
      return `unexpected argument '${command.args[0] ?? ''}': this command takes flags only`
    default:
      return text
  }
}

/**
 * Reads `argv` with commander (strict: unknown flags and positional arguments are errors), then
 * `env` for every flag that was not given. An empty environment variable counts as unset.
 * `--help` and `--version` win over everything else, even over a malformed command line.
 */
function readFlags(
  program: Program,
  specs: readonly FlagSpec[],
  argv: readonly string[],
  env: Environment,
): { readonly kind: 'ok'; readonly raw: RawFlags } | Exclude<CliResult, { kind: 'run' }> {
  const output = { text: '' }
  const refused: { message?: string } = {}
  const command = buildCommand(program, specs, output, refused)
  try {
    command.parse([...argv], { from: 'user' })
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error
    if (error.code === 'commander.helpDisplayed') return { kind: 'help', text: output.text }
    if (error.code === 'commander.version') return { kind: 'version', text: output.text }
    if (argv.includes('--help') || argv.includes('-h')) {
      output.text = ''
      command.outputHelp()
      return { kind: 'help', text: output.text }
    }
    const problem = refused.message ?? commanderProblem(error, command, specs)
    return { kind: 'error', message: errorMessage(program, [problem]) }
  }
  const given = command.opts<Record<string, unknown>>()
  const values: Record<string, RawValue> = {}
  const sources: Record<string, Source> = {}
  for (const spec of specs) {
    const option = command.options.find((o) => o.long === `--${spec.name}`)
    const key = option?.attributeName() ?? spec.name
    const value = given[key]
    if (command.getOptionValueSource(key) === 'cli' && value !== undefined) {
      // A boolean flag's presence is its value (`--no-progress` is true for "no progress").
      values[spec.name] = spec.kind === 'boolean' ? true : String(value)
      sources[spec.name] = 'flag'
      continue
    }
    const fromEnv = spec.env === undefined ? undefined : env[spec.env]
    if (fromEnv !== undefined && fromEnv !== '') {
      values[spec.name] = fromEnv
      sources[spec.name] = 'env'
    }
  }
  return { kind: 'ok', raw: { values, sources } }
}

/** The first sentence of a flag's description. */
function summary(spec: FlagSpec): string {
  return (spec.description.split('\n')[0] ?? '').split(/\.(?:\s|$)/)[0] ?? ''
}

/**
 * Decodes the raw values with `codec` (an io-ts `t.type` keyed by flag name). Every bad value gives
 * one line naming the flag, and the environment variable when the value came from there.
 */
function decodeFlags<C extends t.Any>(
  specs: readonly FlagSpec[],
  codec: C,
  raw: RawFlags,
): { kind: 'ok'; value: t.TypeOf<C> } | { kind: 'error'; lines: string[] } {
  const result = codec.decode(raw.values)
  if (!isLeft(result)) return { kind: 'ok', value: result.right as t.TypeOf<C> }
  const lines = fieldErrors(result.left).map((error) => {
    const name = error.path.split('.')[0] ?? ''
    const spec = specs.find((s) => s.name === name)
    if (!spec) return `${error.path || 'options'}: ${error.message}`
    if (raw.values[name] === undefined) {
      const names = spec.env === undefined ? `--${spec.name}` : `--${spec.name} (or ${spec.env})`
      return `missing ${names}: ${summary(spec)}`
    }
    const where = raw.sources[name] === 'env' ? `--${spec.name} (from ${spec.env})` : `--${spec.name}`
    return `invalid ${where}: ${error.message}`
  })
  return { kind: 'error', lines }
}

/**
 * readFlags and decodeFlags in one: the options `toOptions` makes of the decoded flags, or the help,
 * the version or the message of every problem (with `problems`, lines the caller found elsewhere,
 * such as other variables).
 */
export function parseCommandLine<C extends t.Any, O>(
  program: Program,
  specs: readonly FlagSpec[],
  codec: C,
  input: {
    readonly argv: readonly string[]
    readonly env: Environment
    readonly problems?: readonly string[]
  },
  toOptions: (flags: t.TypeOf<C>) => O,
): CliResult<O> {
  const read = readFlags(program, specs, input.argv, input.env)
  if (read.kind !== 'ok') return read
  const decoded = decodeFlags(specs, codec, read.raw)
  const lines = [...(decoded.kind === 'error' ? decoded.lines : []), ...(input.problems ?? [])]
  if (decoded.kind === 'error' || lines.length > 0)
    return { kind: 'error', message: errorMessage(program, lines) }
  return { kind: 'run', options: toOptions(decoded.value) }
}
