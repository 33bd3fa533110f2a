// The config file of a command (`--config kdp.json`): every setting a flag holds, at the field
// path its FlagSpec names. Unknown fields are errors (a typo must not pass silently), and
// `--print-config` writes the effective settings back in the same shape, secrets redacted.
import { readFileSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { messageOf } from '../util/errors.js'
import type { FlagSpec } from './layers.js'
import { fromText, optional } from './values.js'

/** The `--config` flag of a command, with what its file is to that command. */
export function configFlag(description: string): FlagSpec {
  return { name: 'config', env: 'KDP_CONFIG', kind: 'string', placeholder: '<file>', description }
}

/** The codec of `--config`: a path (read by parseCommandLine, relative to the working directory). */
export const configCodec = optional(
  fromText<string>('File', (s) => (s.trim() === '' ? { reason: 'expected a file' } : { ok: s })),
)

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The parsed document: JSON (`.json`, or any other name whose text starts with `{`). */
function parseDocument(path: string, text: string): unknown {
  const type = extname(path).toLowerCase()
  if (type === '.yaml' || type === '.yml') {
    // YAML 1.2 core schema: `no` is a string, not false (the progress field says what it means).
    const document = parseAllDocuments(text)
    const docs = Array.isArray(document) ? document : [document]
    if (docs.length !== 1)
      throw new Error(`the config file ${path} must hold one YAML document, not ${docs.length}`)
    const [doc] = docs
    const problem = doc?.errors[0]
    if (problem)
      throw new Error(`the config file ${path} is not valid YAML: ${problem.message.split('\n')[0]}`)
    return doc?.toJS() ?? null
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new Error(`the config file ${path} is not valid JSON: ${messageOf(error)}`)
  }
}

/**
 * Reads the config file at `path` (relative to `cwd`) and returns the value of every setting it
 * holds, keyed by setting name; throws with one line per problem (unknown fields, with their path).
 */
export function readConfigFile(
  specs: readonly FlagSpec[],
  path: string,
  cwd: string,
  ignored: readonly FlagSpec[] = [],
): { readonly path: string; readonly values: Readonly<Record<string, unknown>> } {
  const absolute = resolve(cwd, path)
  let text: string
  try {
    text = readFileSync(absolute, 'utf8')
  } catch (error) {
    throw new Error(`cannot read the config file ${absolute}: ${messageOf(error)}`)
  }
  const document = parseDocument(absolute, text)
  if (!isObject(document)) throw new Error(`the config file ${absolute} must hold an object of settings`)
  const byPath = new Map(
    specs.flatMap((spec) => (spec.file === undefined ? [] : [[spec.file, spec] as const])),
  )
  const others = new Set(
    ignored.flatMap((spec) => (spec.file === undefined || byPath.has(spec.file) ? [] : [spec.file])),
  )
  const sections = new Set(
    [...byPath.keys(), ...others].flatMap((p) =>
      p
        .split('.')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('.')),
    ),
  )
  const values: Record<string, unknown> = {}
  const problems: string[] = []
  const walk = (object: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(object)) {
      const path = prefix === '' ? key : `${prefix}.${key}`
      const spec = byPath.get(path)
      if (others.has(path)) continue
      if (spec !== undefined) {
        // null is "not set": a template may list a field without a value.
        if (value !== null) values[spec.name] = value
      } else if (sections.has(path)) {
        if (isObject(value)) walk(value, path)
        else if (value !== null) problems.push(`${path}: expected an object of settings`)
      } else {
        problems.push(`${path}: unknown field`)
      }
    }
  }
  walk(document, '')
  if (problems.length > 0) {
    throw new Error(problems.map((problem) => `invalid config file ${absolute}: ${problem}`).join('\n'))
  }
  return { path: absolute, values }
}

/**
 * The effective settings as a config file (JSON), at the specs' field paths. Values print as
 * `JSON.stringify` shows them: a `Secret` as `[redacted]`, a file read for a setting as its path.
 */
export function printConfig(specs: readonly FlagSpec[], values: Readonly<Record<string, unknown>>): string {
  const document: Record<string, unknown> = {}
  for (const spec of specs) {
    const value = values[spec.name]
    if (spec.file === undefined || value === undefined) continue
    const parts = spec.file.split('.')
    let object = document
    for (const part of parts.slice(0, -1)) {
      const next = object[part]
      const section: Record<string, unknown> = isObject(next) ? next : {}
      object[part] = section
      object = section
    }
    object[parts.at(-1) ?? spec.name] =
      spec.fileNegates && typeof value === 'boolean' ? !value : spec.printAs ? spec.printAs(value) : value
  }
  return `${JSON.stringify(document, null, 2)}\n`
}
