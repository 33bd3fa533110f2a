import type { ColumnSource, ParquetWriteOptions, SchemaElement } from 'hyparquet-writer'
import type { ParquetColumn, ParquetOptions } from '../state/topicConfig.js'
import { type Compression, compressionProblem, GZIP_LEVEL, ZSTD_LEVEL } from './compression.js'
import type { BufferedRecord } from './fileRotation.js'
import type { ParquetWorkers } from './parquetWorkers.js'
import { parseTime, readJsonPath } from './recordFields.js'

/**
 * Parquet files: a file's records are kept as they came (JSON bytes) until the cut and encoded whole
 * then, into one Parquet file (the columns built here, written by hyparquet-writer in a worker). The same records give the same bytes (no time, no random id, a fixed
 * `created_by`), so a replay after a crash writes an identical object.
 *
 * Columns: first the Kafka ones, then the record's:
 * - `_kafka_partition` INT32, `_kafka_offset` INT64, `_kafka_timestamp` INT64 TIMESTAMP(MILLIS, UTC),
 *   `_kafka_key` STRING (UTF-8; null for a record without a key);
 * - from `parquet.schema` when set (a record whose value does not fit is a bad record, see
 *   `schemaProblem`); else inferred from the file's records (see `inferColumns`).
 */

export type ColumnType = ParquetColumn['type']

/** A column of the record's own values. */
export interface DataColumn {
  readonly name: string
  /**
   * Configured columns: the JSON path of the value. Inferred ones: the top-level key (any string).
   * Null: the whole record (the `_value` column of non-object records).
   */
  readonly path: string | null
  readonly type: ColumnType
  readonly nullable: boolean
  readonly timeFormat: ParquetColumn['timeFormat']
}

/** Names of the columns every Parquet file starts with. */
export const KAFKA_COLUMNS = ['_kafka_partition', '_kafka_offset', '_kafka_timestamp', '_kafka_key'] as const
/** Of inferred files: holds records whose JSON value is not an object (an array, a number…). */
export const VALUE_COLUMN = '_value'

const CREATED_BY = 'kdp (hyparquet-writer)'

function describe(value: unknown): string {
  const text = JSON.stringify(value)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

/** Why `value` cannot go into a `type` column, or undefined when it can (null and undefined are not checked here). */
function typeProblem(value: unknown, column: ParquetColumn | DataColumn): string | undefined {
  switch (column.type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'expected a string'
    case 'int64':
      return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 2 ** 63
        ? undefined
        : 'expected an integer'
    case 'double':
      return typeof value === 'number' ? undefined : 'expected a number'
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'expected true or false'
    case 'timestamp': {
      const time = parseTime(value, column.timeFormat)
      return time.ok ? undefined : `expected a time (${column.timeFormat}): ${time.reason}`
    }
    case 'json':
      return undefined
  }
}

/** The path a configured column reads. */
export function pathOf(column: ParquetColumn): string {
  return column.path ?? `$.${column.name}`
}

/**
 * Why a parsed record cannot be stored under the configured `columns` (it is then a bad record, with
 * this reason), or undefined when every column takes its value.
 */
export function schemaProblem(record: unknown, columns: readonly ParquetColumn[]): string | undefined {
  for (const column of columns) {
    const path = pathOf(column)
    const value = readJsonPath(record, path)
    if (value === undefined || value === null) {
      if (!column.nullable) return `parquet column ${column.name} (${path}): missing, and not nullable`
      continue
    }
    const problem = typeProblem(value, column)
    if (problem !== undefined)
      return `parquet column ${column.name} (${path}): ${problem}, got ${describe(value)}`
  }
  return undefined
}

type Kind = 'boolean' | 'integer' | 'number' | 'string' | 'json'

function kindOf(value: unknown): Kind {
  if (typeof value === 'boolean') return 'boolean'
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'integer' : 'number'
  if (typeof value === 'string') return 'string'
  return 'json'
}

function typeOfKinds(kinds: ReadonlySet<Kind>): ColumnType {
  if (kinds.size === 1) {
    const [kind] = kinds
    if (kind === 'boolean') return 'boolean'
    if (kind === 'integer') return 'int64'
    if (kind === 'number') return 'double'
    if (kind === 'string') return 'string'
    return 'json'
  }
  // Integers and other numbers: doubles. Any other mix: each value as its JSON text.
  if (kinds.size === 2 && kinds.has('integer') && kinds.has('number')) return 'double'
  return 'json'
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The columns of a file without a configured schema, from all its records (so the same records give
 * the same columns): every top-level field of the object records, in order of first appearance; each
 * column's type from its non-null values: all booleans `boolean`, all integers `int64`, all numbers
 * `double`, all strings `string`, otherwise (objects, arrays, or a mix of kinds) `json` (each value
 * as its JSON text). Every column is nullable: a record without the field (or with null) stores null;
 * a column with no value at all is `json` and all null. Records that are not JSON objects store their
 * whole value in a `_value` json column. A field whose name is taken (`_kafka_offset`, `_value`, …)
 * is stored under its name with `_` appended until it is free.
 */
export function inferColumns(values: readonly unknown[]): DataColumn[] {
  const kinds = new Map<string, Set<Kind>>()
  let others = false
  for (const value of values) {
    if (!isObject(value)) {
      others = true
      continue
    }
    for (const [key, field] of Object.entries(value)) {
      let seen = kinds.get(key)
      if (!seen) {
        seen = new Set()
        kinds.set(key, seen)
      }
      if (field !== null) seen.add(kindOf(field))
    }
  }
  const taken = new Set<string>([...KAFKA_COLUMNS, VALUE_COLUMN])
  const columns: DataColumn[] = []
  for (const [key, seen] of kinds) {
    let name = key
    while (taken.has(name)) name = `${name}_`
    taken.add(name)
    columns.push({
      name,
      path: key,
      type: seen.size === 0 ? 'json' : typeOfKinds(seen),
      nullable: true,
      timeFormat: 'epoch-ms',
    })
  }
  if (others)
    columns.push({ name: VALUE_COLUMN, path: null, type: 'json', nullable: true, timeFormat: 'epoch-ms' })
  return columns
}

function element(name: string, type: ColumnType | 'int32', nullable: boolean): SchemaElement {
  const repetition_type = nullable ? 'OPTIONAL' : 'REQUIRED'
  switch (type) {
    case 'string':
      return {
        name,
        repetition_type,
        type: 'BYTE_ARRAY',
        converted_type: 'UTF8',
        logical_type: { type: 'STRING' },
      }
    case 'int32':
      return { name, repetition_type, type: 'INT32' }
    case 'int64':
      return { name, repetition_type, type: 'INT64' }
    case 'double':
      return { name, repetition_type, type: 'DOUBLE' }
    case 'boolean':
      return { name, repetition_type, type: 'BOOLEAN' }
    case 'timestamp':
      // Milliseconds, adjusted to UTC: what Athena, Spark and DuckDB all read as a timestamp (never NANOS).
      return {
        name,
        repetition_type,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      }
    case 'json':
      return {
        name,
        repetition_type,
        type: 'BYTE_ARRAY',
        converted_type: 'JSON',
        logical_type: { type: 'JSON' },
      }
  }
}

/** A value (checked by `schemaProblem`, or of an inferred column) as the writer takes it. */
function converted(value: unknown, column: DataColumn): unknown {
  if (value === undefined || value === null) return null
  switch (column.type) {
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value)
    case 'int64':
      return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : null
    case 'double':
      return typeof value === 'number' ? value : null
    case 'boolean':
      return typeof value === 'boolean' ? value : null
    case 'timestamp': {
      const time = parseTime(value, column.timeFormat)
      return time.ok ? BigInt(time.ms) : null
    }
    case 'json':
      return JSON.stringify(value)
  }
}

function valueAt(record: unknown, column: DataColumn, inferred: boolean): unknown {
  if (column.path === null) return isObject(record) ? undefined : record
  if (!inferred) return readJsonPath(record, column.path)
  return isObject(record) && Object.hasOwn(record, column.path) ? record[column.path] : undefined
}

const CODECS: Record<Compression, NonNullable<ParquetWriteOptions['codec']>> = {
  snappy: 'SNAPPY',
  gzip: 'GZIP',
  zstd: 'ZSTD',
  none: 'UNCOMPRESSED',
}

/**
 * What a worker needs to write one file, in a form structured clone copies as it is (a JSON column
 * holds each value's JSON text).
 */
export interface ParquetJob {
  readonly schema: SchemaElement[]
  readonly columns: ReadonlyArray<{
    readonly name: string
    readonly data: ColumnSource['data']
    readonly json: boolean
  }>
  readonly codec: NonNullable<ParquetWriteOptions['codec']>
  readonly levels: { readonly gzip: number; readonly zstd: number }
  readonly createdBy: string
}

/** The columns of one Parquet file of `records` (in the given order) of `partition`. */
export function parquetJob(
  records: readonly BufferedRecord[],
  partition: number,
  options: ParquetOptions,
  compression: Compression,
): ParquetJob {
  const values: unknown[] = records.map((r) => JSON.parse(r.body.toString('utf8')))
  const inferred = options.schema.length === 0
  const columns: DataColumn[] = inferred
    ? inferColumns(values)
    : options.schema.map((c) => ({ ...c, path: pathOf(c) }))
  return {
    schema: [
      { name: 'root', num_children: KAFKA_COLUMNS.length + columns.length },
      element('_kafka_partition', 'int32', false),
      element('_kafka_offset', 'int64', false),
      element('_kafka_timestamp', 'timestamp', false),
      element('_kafka_key', 'string', true),
      ...columns.map((c) => element(c.name, c.type, c.nullable)),
    ],
    columns: [
      { name: '_kafka_partition', data: new Int32Array(records.length).fill(partition), json: false },
      { name: '_kafka_offset', data: BigInt64Array.from(records, (r) => BigInt(r.offset)), json: false },
      {
        name: '_kafka_timestamp',
        data: BigInt64Array.from(records, (r) => BigInt(r.kafka?.timestamp ?? r.timeMs)),
        json: false,
      },
      { name: '_kafka_key', data: records.map((r) => r.kafka?.key ?? null), json: false },
      ...columns.map((column) => ({
        name: column.name,
        data: values.map((value) => converted(valueAt(value, column, inferred), column)),
        json: column.type === 'json',
      })),
    ],
    codec: CODECS[compression],
    levels: { gzip: GZIP_LEVEL, zstd: ZSTD_LEVEL },
    createdBy: CREATED_BY,
  }
}

/**
 * One Parquet file of `records` (in the given order) of `partition`, written in a worker thread (the
 * writer runs at about 15 MB/s of JSON: a big file on the main thread would hold its event loop for
 * seconds, heartbeats and the stall guard's lease included). Rejects when a record is not JSON
 * (prepared records always are) or this Node has no zstd for a zstd file.
 */
export async function encodeParquet(
  records: readonly BufferedRecord[],
  partition: number,
  options: ParquetOptions,
  compression: Compression,
  workers: ParquetWorkers,
): Promise<Buffer> {
  const problem = compressionProblem(compression)
  if (problem !== undefined) throw new Error(problem)
  return workers.encode(parquetJob(records, partition, options, compression))
}
