// Parquet files: the config codec, the inference rule, the per-record checks, and the encoder's bytes
// read back by DuckDB (from the project's venv), for every codec this Node can write.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type Compression, compressionProblem } from '../../../src/processes/archiver/compression.js'
import { layoutOf } from '../../../src/processes/archiver/cutLog.js'
import { encodeFile, objectKey } from '../../../src/processes/archiver/fileEncoding.js'
import { Layout } from '../../../src/processes/archiver/fileLayout.js'
import { type BufferedRecord, FileRotation } from '../../../src/processes/archiver/fileRotation.js'
import { InFlightBudget } from '../../../src/processes/archiver/inFlightBudget.js'
import { encodeParquet, inferColumns, schemaProblem } from '../../../src/processes/archiver/parquetFiles.js'
import { ParquetWorkers } from '../../../src/processes/archiver/parquetWorkers.js'
import { decodeConfigFields, type ParquetColumn } from '../../../src/processes/state/topicConfig.js'
import { ValidationError } from '../../../src/util/decode.js'
import { duckdbQuery } from '../../helpers/duckdb.js'
import { startTestApi } from '../../http/fakes.js'
import { topicConfig } from './harness.js'

const nodeHasZstd = compressionProblem('zstd') === undefined

function fieldErrorsOf(body: unknown): Array<{ path: string; message: string }> {
  try {
    decodeConfigFields(body)
  } catch (error) {
    if (error instanceof ValidationError) return [...error.errors]
    throw error
  }
  return []
}

function column(fields: Partial<ParquetColumn> & Pick<ParquetColumn, 'name' | 'type'>): ParquetColumn {
  return { path: null, nullable: true, timeFormat: 'epoch-ms', ...fields }
}

function record(offset: number, value: unknown, key: string | null = `k${offset}`): BufferedRecord {
  return {
    offset,
    body: Buffer.from(JSON.stringify(value)),
    timeMs: 1_700_000_000_000 + offset,
    sortKey: undefined,
    kafka: { timestamp: 1_700_000_000_000 + offset, key },
  }
}

describe('the parquet config', () => {
  it('takes format parquet with its defaults: an empty schema (inferred), codec from compression', () => {
    const fields = decodeConfigFields({ format: 'parquet', compression: 'snappy' })
    expect(fields.format).toBe('parquet')
    expect(fields.compression).toBe('snappy')
    expect(fields.parquet).toEqual({ schema: [] })
    expect(decodeConfigFields({}).parquet).toEqual({ schema: [] })
  })

  it('fills in each column’s defaults', () => {
    const fields = decodeConfigFields({
      format: 'parquet',
      parquet: {
        schema: [
          { name: 'user', type: 'string' },
          { name: 'at', path: '$.a.t', type: 'timestamp', nullable: false, timeFormat: 'iso' },
        ],
      },
    })
    expect(fields.parquet.schema).toEqual([
      { name: 'user', path: null, type: 'string', nullable: true, timeFormat: 'epoch-ms' },
      { name: 'at', path: '$.a.t', type: 'timestamp', nullable: false, timeFormat: 'iso' },
    ])
  })

  it('refuses bad columns and combinations with the field path', () => {
    const paths = (body: unknown) => fieldErrorsOf(body).map((e) => e.path)
    expect(paths({ format: 'parquet', parquet: { schema: [{ name: 'a', type: 'int32' }] } })).toEqual([
      'parquet.schema.0.type',
    ])
    expect(
      paths({ format: 'parquet', parquet: { schema: [{ name: '_kafka_offset', type: 'int64' }] } }),
    ).toEqual(['parquet.schema.0.name'])
    expect(paths({ format: 'parquet', parquet: { schema: [{ name: '1a', type: 'int64' }] } })).toEqual([
      'parquet.schema.0.name',
    ])
    expect(
      paths({ format: 'parquet', parquet: { schema: [{ name: 'a', path: 'a.b', type: 'json' }] } }),
    ).toEqual(['parquet.schema.0.path'])
    expect(
      paths({
        format: 'parquet',
        parquet: {
          schema: [
            { name: 'a', type: 'json' },
            { name: 'a', type: 'string' },
          ],
        },
      }),
    ).toEqual(['parquet.schema'])
    expect(paths({ format: 'parquet', parquet: { schema: [] } })).toEqual([])
    expect(
      paths({ format: 'parquet', parquet: { schema: [{ name: 'a', type: 'json', extra: 1 }] } }),
    ).toEqual(['parquet.schema.0.extra'])
    expect(paths({ format: 'parquet', parquet: { codec: 'snappy' } })).toEqual(['parquet.codec'])
    expect(fieldErrorsOf({ compression: 'snappy' })).toEqual([
      { path: 'compression', message: expect.stringContaining('`snappy` is for `format: "parquet"` only') },
    ])
    expect(paths({ format: 'jsonl', parquet: { schema: [{ name: 'a', type: 'json' }] } })).toEqual([
      'parquet.schema',
    ])
    expect(paths({ format: 'avro' })).toEqual(['format'])
  })
})

describe('PUT /topics/:topic/config with parquet options', () => {
  it('answers 400 with the field paths, stores nothing, and stores a good one', async () => {
    const api = await startTestApi()
    const put = (body: unknown) =>
      api.write('/topics/tweets/config', { method: 'PUT', body: JSON.stringify(body), headers: {} })
    const bad = await put({
      format: 'jsonl',
      compression: 'snappy',
      parquet: {
        schema: [
          { name: 'id', type: 'integer' },
          { name: 'id', type: 'int64', nulable: true },
        ],
      },
    })
    expect(bad.status).toBe(400)
    const body = (await bad.json()) as { error: string; fields: Array<{ path: string; message: string }> }
    expect(body.error).toBe('invalid_body')
    // The checks across fields (snappy with jsonl, a schema without parquet, unique names) run
    // once every field decodes.
    expect(body.fields.map((f) => f.path).sort()).toEqual([
      'parquet.schema.0.type',
      'parquet.schema.1.nulable',
    ])
    const duplicate = await put({
      format: 'parquet',
      parquet: {
        schema: [
          { name: 'id', type: 'json' },
          { name: 'id', type: 'int64' },
        ],
      },
    })
    expect(duplicate.status).toBe(400)
    expect(
      ((await duplicate.json()) as { fields: Array<{ path: string }> }).fields.map((f) => f.path),
    ).toEqual(['parquet.schema'])
    const combination = await put({ format: 'raw', compression: 'snappy' })
    expect(combination.status).toBe(400)
    expect(((await combination.json()) as { fields: unknown[] }).fields).toEqual([
      { path: 'compression', message: expect.stringContaining('snappy') },
    ])
    expect(api.configs.writes).toBe(0)
    const good = await put({
      format: 'parquet',
      compression: 'snappy',
      parquet: { schema: [{ name: 'id', type: 'int64' }] },
    })
    expect(good.status).toBe(200)
    expect(api.configs.list()[0]).toMatchObject({
      format: 'parquet',
      parquet: {
        schema: [{ name: 'id', path: null, type: 'int64', nullable: true, timeFormat: 'epoch-ms' }],
      },
    })
  })
})

describe('inferColumns', () => {
  it('types each top-level field from all its non-null values, in order of first appearance', () => {
    const columns = inferColumns([
      { i: 1, d: 1, s: 'a', b: true, o: { x: 1 }, mixed: 1, nothing: null },
      { i: 2, d: 1.5, s: 'b', b: false, o: [1], mixed: 'one', later: 'x' },
      { i: null },
    ])
    expect(columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['i', 'int64', true],
      ['d', 'double', true],
      ['s', 'string', true],
      ['b', 'boolean', true],
      ['o', 'json', true],
      ['mixed', 'json', true],
      ['nothing', 'json', true],
      ['later', 'string', true],
    ])
  })

  it('puts non-object records in _value and renames fields that take a reserved name', () => {
    const columns = inferColumns([{ _kafka_offset: 1, _value: 'v', _value_: 2 }, [1, 2], 'text'])
    expect(columns.map((c) => [c.name, c.path, c.type])).toEqual([
      ['_kafka_offset_', '_kafka_offset', 'int64'],
      ['_value_', '_value', 'string'],
      ['_value__', '_value_', 'int64'],
      ['_value', null, 'json'],
    ])
  })

  it('makes integers beyond 2^53 doubles', () => {
    expect(inferColumns([{ n: 2 ** 60 }])[0]?.type).toBe('double')
  })
})

describe('schemaProblem', () => {
  const schema = [
    column({ name: 'id', type: 'int64', nullable: false }),
    column({ name: 'name', path: '$.user.name', type: 'string' }),
    column({ name: 'at', type: 'timestamp', timeFormat: 'iso' }),
    column({ name: 'ok', type: 'boolean' }),
    column({ name: 'score', type: 'double' }),
    column({ name: 'raw', type: 'json' }),
  ]

  it('accepts records whose values fit, nulls where nullable', () => {
    expect(
      schemaProblem(
        { id: 1, user: { name: 'a' }, at: '2025-01-01T00:00:00Z', ok: true, score: 1.5, raw: [1] },
        schema,
      ),
    ).toBeUndefined()
    expect(schemaProblem({ id: 1 }, schema)).toBeUndefined()
  })

  it('names the column, its path and the value that does not fit', () => {
    expect(schemaProblem({}, schema)).toBe('parquet column id ($.id): missing, and not nullable')
    expect(schemaProblem({ id: 1.5 }, schema)).toBe('parquet column id ($.id): expected an integer, got 1.5')
    expect(schemaProblem({ id: 1, user: { name: 7 } }, schema)).toBe(
      'parquet column name ($.user.name): expected a string, got 7',
    )
    expect(schemaProblem({ id: 1, at: 'yesterday' }, schema)).toMatch(
      /^parquet column at \(\$\.at\): expected a time \(iso\): not an ISO-8601 time/,
    )
    expect(schemaProblem({ id: 1, ok: 'yes' }, schema)).toBe(
      'parquet column ok ($.ok): expected true or false, got "yes"',
    )
    expect(schemaProblem({ id: 1, score: '1' }, schema)).toBe(
      'parquet column score ($.score): expected a number, got "1"',
    )
  })
})

const workers = new ParquetWorkers()
afterAll(() => workers.close())

describe('Parquet files', () => {
  it('are named .parquet whatever the codec, are not compressed again, and keep their records until the cut', () => {
    const file = { path: 'p', startOffset: 7 } as Parameters<typeof objectKey>[0]
    expect(objectKey(file, 't', 0, 'parquet', 'gzip')).toBe('p/t+0+7.parquet')
    expect(objectKey(file, 't', 0, 'parquet', 'snappy')).toBe('p/t+0+7.parquet')
    expect(objectKey(file, 't', 0, 'jsonl', 'gzip')).toBe('p/t+0+7.jsonl.gz')
    const config = topicConfig('t', { format: 'parquet', compression: 'gzip' })
    const layout = new Layout(layoutOf(config), config, new InFlightBudget(1000, 1e9), workers)
    expect(layout.framing).toBeUndefined()
    expect(layout.storedCompression).toBe('none')
    const prepared = layout.preparation.prepare({
      offset: 3,
      key: Buffer.from('key-3'),
      value: Buffer.from('{"a":1}'),
      headers: {},
      timestamp: 1_700_000_000_123,
    })
    expect(prepared).toMatchObject({
      kind: 'file',
      record: { offset: 3, kafka: { timestamp: 1_700_000_000_123, key: 'key-3' } },
    })
    if (prepared.kind !== 'file') throw new Error('not prepared')
    // The rotation counts the key too: the budget sees what the file holds.
    const rotation = new FileRotation({
      maxBytes: 1e9,
      maxRecords: 1e9,
      maxSpanMs: 1e12,
      maxAgeMs: null,
      idleMs: null,
    })
    rotation.append(prepared.path, prepared.record, 0, layout.framing)
    expect(rotation.bytes).toBe('{"a":1}'.length + 1 + 'key-3'.length)
  })

  it('makes a record that is not JSON, or does not fit the schema, a bad record', () => {
    const config = topicConfig('t', {
      format: 'parquet',
      parquet: { schema: [{ name: 'id', type: 'int64', nullable: false }] },
    })
    const layout = new Layout(layoutOf(config), config, new InFlightBudget(1000, 1e9), workers)
    const base = { offset: 0, key: null, headers: {}, timestamp: 0 }
    expect(layout.preparation.prepare({ ...base, value: Buffer.from('{"broken') })).toMatchObject({
      kind: 'bad',
      reason: expect.stringMatching(/^not JSON/),
    })
    expect(layout.preparation.prepare({ ...base, value: Buffer.from('{"id":"x"}') })).toEqual({
      kind: 'bad',
      reason: 'parquet column id ($.id): expected an integer, got "x"',
    })
  })

  it('encode the same records into the same bytes', async () => {
    const records = Array.from({ length: 50 }, (_, i) => record(i, { i, s: `s${i}`, o: { i } }))
    const one = await encodeParquet(records, 2, { schema: [] }, 'snappy', workers)
    const two = await encodeParquet(
      records.map((r) => ({ ...r, body: Buffer.from(r.body) })),
      2,
      { schema: [] },
      'snappy',
      workers,
    )
    expect(one.equals(two)).toBe(true)
    expect(one.subarray(0, 4).toString()).toBe('PAR1')
  })

  const codecs: Compression[] = ['snappy', 'gzip', 'none', ...(nodeHasZstd ? (['zstd'] as const) : [])]
  it.each(codecs)('are read back by DuckDB with their types and values (%s)', async (codec) => {
    const dir = mkdtempSync(join(tmpdir(), 'kdp-parquet-'))
    const records = [
      record(10, { i: 1, d: 0.5, s: 'a', b: true, o: { x: [1, 2] }, m: 1 }),
      record(11, { i: 2, d: 2, s: 'é', b: false, o: null, m: 'one' }, null),
      record(12, [1, 'two']),
    ]
    const inferred = join(dir, 'inferred.parquet')
    writeFileSync(inferred, await encodeParquet(records, 3, { schema: [] }, codec, workers))
    const configured = join(dir, 'configured.parquet')
    writeFileSync(
      configured,
      await encodeParquet(
        [record(0, { id: 5, at: '2025-01-02T03:04:05.678Z', u: { n: 'x' } }), record(1, { id: 6, at: null })],
        0,
        {
          schema: [
            column({ name: 'id', type: 'int64', nullable: false }),
            column({ name: 'at', type: 'timestamp', timeFormat: 'iso' }),
            column({ name: 'user', path: '$.u.n', type: 'string' }),
          ],
        },
        codec,
        workers,
      ),
    )
    const { results } = await duckdbQuery(
      [inferred],
      [
        `SELECT typeof(_kafka_partition), typeof(_kafka_offset), typeof(_kafka_timestamp), typeof(_kafka_key),
           typeof(i), typeof(d), typeof(s), typeof(b), typeof(o), typeof(m), typeof(_value) FROM FILES LIMIT 1`,
        `SELECT _kafka_partition, _kafka_offset, _kafka_timestamp, _kafka_key, i, d, s, b, o::VARCHAR, m::VARCHAR, _value::VARCHAR
           FROM FILES ORDER BY _kafka_offset`,
        `SELECT DISTINCT compression FROM parquet_metadata($files)`,
      ],
    )
    expect(results[0]).toEqual([
      [
        'INTEGER',
        'BIGINT',
        'TIMESTAMP WITH TIME ZONE',
        'VARCHAR',
        'BIGINT',
        'DOUBLE',
        'VARCHAR',
        'BOOLEAN',
        'JSON',
        'JSON',
        'JSON',
      ],
    ])
    expect(results[1]).toEqual([
      [3, 10, '2023-11-14T22:13:20.010000+00:00', 'k10', 1, 0.5, 'a', true, '{"x":[1,2]}', '1', null],
      [3, 11, '2023-11-14T22:13:20.011000+00:00', null, 2, 2, 'é', false, null, '"one"', null],
      [3, 12, '2023-11-14T22:13:20.012000+00:00', 'k12', null, null, null, null, null, null, '[1,"two"]'],
    ])
    expect(results[2]).toEqual([[codec === 'none' ? 'UNCOMPRESSED' : codec.toUpperCase()]])
    const back = await duckdbQuery(
      [configured],
      [
        `SELECT id, typeof("at"), "at", "user" FROM FILES ORDER BY id`,
        `SELECT count(*) FROM parquet_schema($files) WHERE name = 'at' AND logical_type LIKE '%MILLIS%'`,
      ],
    )
    expect(back.results[0]).toEqual([
      [5, 'TIMESTAMP WITH TIME ZONE', '2025-01-02T03:04:05.678000+00:00', 'x'],
      [6, 'TIMESTAMP WITH TIME ZONE', null, null],
    ])
    expect(back.results[1]).toEqual([[1]])
  })

  it('store a JSON value as exactly its JSON text, written in a worker thread that close() ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdp-parquet-'))
    const tricky = JSON.parse('{"o":{"__proto__":{"x":1},"n":-0,"big":1e300,"s":"\\u2028"}}')
    const many = Array.from({ length: 30_000 }, (_, i) =>
      record(i, i === 0 ? tricky : { o: { i, pad: 'x'.repeat(300) } }),
    )
    const own = new ParquetWorkers(2)
    const body = await encodeParquet(many, 0, { schema: [] }, 'gzip', own)
    // The main thread only parses the records and builds the columns: the writer ran in a thread.
    expect(own.threads).toBe(1)
    await own.close()
    expect(own.threads).toBe(0)
    await expect(encodeParquet(many.slice(0, 1), 0, { schema: [] }, 'gzip', own)).rejects.toThrow(/closed/)
    writeFileSync(join(dir, 'j.parquet'), body)
    const { results } = await duckdbQuery(
      [join(dir, 'j.parquet')],
      ['SELECT o::VARCHAR FROM FILES WHERE _kafka_offset = 0', 'SELECT count(*) FROM FILES'],
    )
    expect(results[0]).toEqual([[JSON.stringify(tricky.o)]])
    expect(results[1]).toEqual([[30_000]])
  })

  it(`${nodeHasZstd ? 'write zstd pages' : 'refuse zstd with the Node version and what to do'} (Node ${process.version})`, async () => {
    const encoded = encodeParquet([record(0, { a: 1 })], 0, { schema: [] }, 'zstd', workers)
    if (nodeHasZstd) expect((await encoded).subarray(0, 4).toString()).toBe('PAR1')
    else await expect(encoded).rejects.toThrow(/zstd needs Node\.js 22\.15 or later.*use gzip or none/)
  })

  it('go through encodeFile sorted by the sort attribute, with the Parquet content type', async () => {
    const rotation = new FileRotation({
      maxBytes: 1e9,
      maxRecords: 1e9,
      maxSpanMs: 1e12,
      maxAgeMs: null,
      idleMs: null,
    })
    for (const [offset, k] of [
      [0, 3],
      [1, 1],
      [2, 2],
    ] as const)
      rotation.append('p', { ...record(offset, { k }), sortKey: k }, 0)
    const [file] = rotation.takeAll()
    if (!file) throw new Error('no file')
    const { body, metadata } = await encodeFile(file, 'parquet', 'snappy', true, undefined, {
      options: { schema: [] },
      partition: 0,
      workers,
    })
    expect(metadata).toEqual({ contentType: 'application/vnd.apache.parquet' })
    const dir = mkdtempSync(join(tmpdir(), 'kdp-parquet-'))
    writeFileSync(join(dir, 'f.parquet'), body)
    const { results } = await duckdbQuery([join(dir, 'f.parquet')], ['SELECT k, _kafka_offset FROM FILES'])
    expect(results[0]).toEqual([
      [1, 1],
      [2, 2],
      [3, 0],
    ])
  })

  it('fail loudly, saying what to run, when the reader is missing (never a skip)', async () => {
    const query = ['SELECT count(*) FROM FILES']
    await expect(duckdbQuery(['/x.parquet'], query, '/nonexistent/venv/bin/python')).rejects.toThrow(
      "no Python venv at /nonexistent/venv/bin/python: run 'npm run services:install'",
    )
    // The system's Python has no duckdb module (the venv's has).
    await expect(duckdbQuery(['/x.parquet'], query, '/usr/bin/python3')).rejects.toThrow(
      /duckdb is not installed in \.cache\/venv .*run 'npm run services:install'/,
    )
    await expect(duckdbQuery(['/nonexistent.parquet'], query)).rejects.toThrow(
      /DuckDB could not read the Parquet files: [\s\S]*No files found that match the pattern "\/nonexistent\.parquet"/,
    )
  })
})
