import { describe, expect, it } from 'vitest'
import type { ConsumedRecord } from '../../../src/kafka/index.js'
import { RecordPreparation } from '../../../src/processes/archiver/recordPreparation.js'
import { topicConfig } from './configs.js'

const config = (fields: Record<string, unknown>) => topicConfig('t', fields)

const record = (offset: number, value: string | null): ConsumedRecord => ({
  offset,
  key: null,
  value: value === null ? null : Buffer.from(value),
  headers: {},
  timestamp: Date.UTC(2026, 11, 1, 14, 30),
})

describe('RecordPreparation of lines', () => {
  const lines = new RecordPreparation(config({ format: 'lines' }))

  it('writes a value as it is, JSON or not, under the path of its Kafka timestamp', () => {
    for (const [offset, text] of ['plain text, not JSON', '{"id":1}', '', 'ünïcödé'].entries()) {
      const prepared = lines.prepare(record(offset, text))
      expect(prepared).toMatchObject({ kind: 'file', path: 'dt=2026-12-01/hr=14', record: { offset } })
      expect(prepared.kind === 'file' && prepared.record.body.toString('utf8')).toBe(text)
    }
  })

  it('is not a JSON check: no worker verdict is asked for', () => {
    expect(lines.onlyChecksJson).toBe(false)
  })

  it('sends a value with a newline, and a tombstone, to the dead letters with the reason', () => {
    expect(lines.prepare(record(1, 'two\nlines'))).toEqual({
      kind: 'bad',
      reason: 'the value holds a newline: a line must be one line',
    })
    expect(lines.prepare(record(2, null))).toEqual({
      kind: 'bad',
      reason: 'null value (tombstone) where a line was expected',
    })
  })

  it('parses the value only to read a field the config names', () => {
    const byField = new RecordPreparation(config({ format: 'lines', pathTemplate: 'lang={$.lang}' }))
    expect(byField.prepare(record(3, '{"lang":"de"}'))).toMatchObject({ kind: 'file', path: 'lang=de' })
    expect(byField.prepare(record(4, 'not json'))).toMatchObject({ kind: 'bad' })
  })
})
