import type * as t from 'io-ts'
import { formatBytes } from '../src/cli/progress.js'
import { ScalerConfigFields } from '../src/processes/scaler/config.js'
import { TopicConfigFields } from '../src/processes/state/topicConfig.js'
import { type Json, type JsonSchema, toJsonSchema } from '../src/util/jsonSchema.js'

/**
 * The README's config tables (the topic config, the scaler config), written from the codecs' JSON
 * Schema (their descriptions, types and defaults), so that the README cannot drift from what the
 * server decodes. `npm run docs:config` writes each between its markers; a test fails when the README
 * holds anything else.
 */

export const startMarker =
  '<!-- topic-config:start (written by `npm run docs:config` from src/processes/state/topicConfig.ts) -->'
export const endMarker = '<!-- topic-config:end -->'
export const scalerStartMarker =
  '<!-- scaler-config:start (written by `npm run docs:config` from src/processes/scaler/config.ts) -->'
export const scalerEndMarker = '<!-- scaler-config:end -->'

function isSchema(value: Json | undefined): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const code = (text: string) => `\`${text}\``
// A `|` splits a cell even inside backticks, in GitHub's tables.
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

/** What a value of `schema` is, in a few words. */
function kind(schema: JsonSchema): string {
  if ('const' in schema) return code(JSON.stringify(schema.const))
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => code(String(v))).join(', ')
  if (Array.isArray(schema.anyOf)) return schema.anyOf.filter(isSchema).map(kind).join(' or ')
  const { type, minimum, maximum } = schema
  if (type === 'integer') {
    if (typeof minimum === 'number' && typeof maximum === 'number') return `integer ${minimum}–${maximum}`
    return typeof minimum === 'number' ? `integer ≥ ${minimum}` : 'integer'
  }
  if (type === 'number' && typeof minimum === 'number' && typeof maximum === 'number')
    return `number ${minimum}–${maximum}`
  if (type === 'null') return code('null')
  if (type === 'array') return isSchema(schema.items) ? `list of ${kind(schema.items)}` : 'list'
  if (type === 'object') return 'object'
  return typeof type === 'string' ? type : 'any'
}

function duration(ms: number): string {
  const units: Array<[number, string]> = [
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ]
  const unit = units.find(([size]) => ms % size === 0)
  return unit ? `${ms / unit[0]} ${unit[1]}` : `${ms} ms`
}

/** A default as the table shows it: the JSON value, and bytes or durations in words. */
function shown(field: string, value: Json): string {
  const text = code(typeof value === 'string' ? value : JSON.stringify(value))
  if (typeof value !== 'number') return text
  if (/Bytes/.test(field) && value >= 1024) return `${text} (${formatBytes(value)})`
  if (/Ms$/.test(field) && value >= 1000) return `${text} (${duration(value)})`
  return text
}

interface Row {
  readonly field: string
  readonly kind: string
  readonly fallback: string
  readonly meaning: string
}

function rows(schema: JsonSchema, prefix: string): Row[] {
  const properties = isSchema(schema.properties) ? schema.properties : {}
  const required = Array.isArray(schema.required) ? schema.required : []
  return Object.entries(properties).flatMap(([name, property]) => {
    if (!isSchema(property)) return []
    const field = `${prefix}${name}`
    const description = typeof property.description === 'string' ? property.description : ''
    const fallback =
      property.default !== undefined
        ? property.type === 'object'
          ? 'each field’s'
          : shown(name, property.default)
        : required.includes(name)
          ? 'required'
          : 'none'
    const own: Row = { field, kind: kind(property), fallback, meaning: description }
    if (property.type === 'object') return [own, ...rows(property, `${field}.`)]
    if (isSchema(property.items) && property.items.type === 'object')
      return [own, ...rows(property.items, `${field}[].`)]
    return [own]
  })
}

/** A codec's table, one row per field (nested fields as `time.field`, list items as `sinks[].id`). */
function tableOf(codec: t.Any): string {
  const lines = ['| field | type | default | meaning |', '| --- | --- | --- | --- |']
  for (const row of rows(toJsonSchema(codec), ''))
    lines.push(`| ${[code(row.field), row.kind, row.fallback, row.meaning].map(cell).join(' | ')} |`)
  return lines.join('\n')
}

/** `readme` with what lies between the two markers replaced by `table`. */
function withBlock(readme: string, startText: string, endText: string, table: string): string {
  const start = readme.indexOf(startText)
  const end = readme.indexOf(endText)
  if (start < 0 || end < start) throw new Error(`the README has no ${startText} ... ${endText} block`)
  return `${readme.slice(0, start + startText.length)}\n${table}\n${readme.slice(end)}`
}

/** The topic-config table (`PUT /topics/:topic/config`). */
export function configTable(): string {
  return tableOf(TopicConfigFields)
}

/** The scaler-config table (`PUT /scaling/config`). */
export function scalerConfigTable(): string {
  return tableOf(ScalerConfigFields)
}

/** `readme` with the topic-config table between its markers replaced by the current one. */
export function withConfigTable(readme: string): string {
  return withBlock(readme, startMarker, endMarker, configTable())
}

/** `readme` with the scaler-config table between its markers replaced by the current one. */
export function withScalerConfigTable(readme: string): string {
  return withBlock(readme, scalerStartMarker, scalerEndMarker, scalerConfigTable())
}

/** `readme` with both tables replaced: what `npm run docs:config` writes. */
export function withConfigTables(readme: string): string {
  return withScalerConfigTable(withConfigTable(readme))
}
