// The command line of kdp's tools on commander: flags, help, suggestions and errors come from it.
// The layers below a flag (environment variable, config file, default) and the decoding of every
// value are in layers.ts, the config file in configFile.ts.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import type * as t from 'io-ts'
import { messageOf } from '../util/errors.js'
import { printConfig, readConfigFile } from './configFile.js'
import { decodeLayers, type Environment, type FlagSpec, layer, UsageError, whereFrom } from './layers.js'

export type { Environment, FlagSpec } from './layers.js'

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
  /** Settings of other commands that may stand in this command's config file (ignored, not unknown). */
  readonly alsoInConfigFile?: readonly FlagSpec[]
}

/** What parsing a command line gives: options to run with, a text to print, or an error (exit 2). */
export type CliResult<O = unknown> =
  | { readonly kind: 'run'; readonly options: O }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version'; readonly text: string }
  /** `--print-config`: the effective settings, secrets redacted. */
  | { readonly kind: 'config'; readonly text: string }
  | { readonly kind: 'error'; readonly message: string }

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
 * read by parseCommandLine from the environment it is given (commander's own `.env()` reads
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
    if (spec.cli === false) continue
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
    if (spec.cli === false) continue
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
 * Reads `argv` with commander (strict: unknown flags and positional arguments are errors): the
 * text of every flag given (`true` for a boolean flag). `--help` and `--version` win over
 * everything else, even over a malformed command line.
 */
function readCommandLine(
  program: Program,
  specs: readonly FlagSpec[],
  argv: readonly string[],
):
  | { readonly kind: 'ok'; readonly flags: Record<string, string | boolean> }
  | Exclude<CliResult, { kind: 'run' }> {
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
  const flags: Record<string, string | boolean> = {}
  for (const spec of specs) {
    const option = command.options.find((o) => o.long === `--${spec.name}`)
    if (option === undefined) continue
    const key = option.attributeName()
    const value = given[key]
    // A boolean flag's presence is its value (`--no-progress` is true for "no progress").
    if (command.getOptionValueSource(key) === 'cli' && value !== undefined)
      flags[spec.name] = spec.kind === 'boolean' ? true : String(value)
  }
  return { kind: 'ok', flags }
}

/** The input of a command: its arguments, its environment, and the folder relative paths start from. */
export interface CommandInput {
  readonly argv: readonly string[]
  readonly env: Environment
  readonly cwd: string
}

/**
 * Parses a command: flags (commander), then the environment, then the config file named by the
 * setting `config` (when the program has one), then defaults; decodes every value with `codec` (an
 * io-ts `t.type` keyed by setting name) and makes the options with `toOptions`, which may throw a
 * UsageError. Every problem is reported at once. With the setting `print-config` on, the result is
 * the effective settings as a config file instead of options to run with.
 */
export function parseCommandLine<C extends t.Any, O>(
  program: Program,
  specs: readonly FlagSpec[],
  codec: C,
  input: CommandInput,
  toOptions: (settings: t.TypeOf<C>) => O,
): CliResult<O> {
  const read = readCommandLine(program, specs, input.argv)
  if (read.kind !== 'ok') return read
  const fail = (lines: readonly string[]): CliResult<O> => ({
    kind: 'error',
    message: errorMessage(program, lines),
  })
  const configSpec = specs.find((spec) => spec.name === 'config')
  const bare = layer(specs, read.flags, input.env, undefined)
  const configPath = configSpec && bare.values.config
  let file: ReturnType<typeof readConfigFile> | undefined
  if (typeof configPath === 'string') {
    try {
      file = readConfigFile(specs, configPath, input.cwd, program.alsoInConfigFile)
    } catch (error) {
      const from = configSpec ? whereFrom(configSpec, bare) : '--config'
      return fail(
        messageOf(error)
          .split('\n')
          .map((line) => `${line} (${from})`),
      )
    }
  }
  const layered = file ? layer(specs, read.flags, input.env, file) : bare
  const decoded = decodeLayers(specs, codec, layered)
  if (decoded.kind === 'error') return fail(decoded.lines)
  let options: O
  try {
    options = toOptions(decoded.value)
  } catch (error) {
    if (error instanceof UsageError) return fail(error.lines)
    throw error
  }
  const settings = decoded.value as Readonly<Record<string, unknown>>
  if (settings['print-config'] === true) return { kind: 'config', text: printConfig(specs, settings) }
  return { kind: 'run', options }
}
