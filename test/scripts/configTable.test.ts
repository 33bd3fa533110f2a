import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  configTable,
  endMarker,
  scalerConfigTable,
  scalerStartMarker,
  startMarker,
  withConfigTable,
  withScalerConfigTable,
} from '../../scripts/configTable.js'
import { repoRoot } from '../../services/process.js'
import { ScalerConfigFields } from '../../src/processes/scaler/config.js'
import { TopicConfigFields } from '../../src/processes/state/topicConfig.js'

describe("the README's topic-config table", () => {
  it('is what `npm run docs:config` writes from the codec (run it if this fails)', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    expect(readme).toContain(startMarker)
    expect(withConfigTable(readme)).toBe(readme)
  })

  it('has a row for every field, with its default', () => {
    const table = configTable()
    for (const field of Object.keys(TopicConfigFields.props)) expect(table).toContain(`| \`${field}\` |`)
    expect(table).toContain('| `rotation.maxBytes` | integer ≥ 1 | `67108864` (64 MiB) |')
    expect(table).toContain('| `parallelism` | integer 1–256 or `"auto"` | `auto` |')
    expect(table).toContain('| `sinks[].id` | string | required |')
    expect(table).toContain('`epoch-s`, `epoch-ms`, `epoch-ns`, `iso`')
  })

  it('replaces only what lies between the markers, and refuses a README without them', () => {
    const readme = `intro\n${startMarker}\nold table\n${endMarker}\noutro\n`
    expect(withConfigTable(readme)).toBe(`intro\n${startMarker}\n${configTable()}\n${endMarker}\noutro\n`)
    expect(() => withConfigTable('no markers')).toThrow(/no .* block/)
  })
})

describe("the README's scaler-config table", () => {
  it('is what `npm run docs:config` writes from the codec (run it if this fails)', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    expect(readme).toContain(scalerStartMarker)
    expect(withScalerConfigTable(readme)).toBe(readme)
  })

  it('has a row for every field, with its default', () => {
    const table = scalerConfigTable()
    for (const field of Object.keys(ScalerConfigFields.props)) expect(table).toContain(`| \`${field}\` |`)
    expect(table).toContain('| `mode` | `auto`, `recommend`, `off` | `auto` |')
    expect(table).toContain('| `intervalMs` | integer 200–3600000 | `15000` (15 s) |')
  })
})
