import type { ObjectMetadata } from '../../sinks/sink.js'
import type { TopicConfig } from '../state/topicConfig.js'
import type { FileCompression } from './compression.js'
import type { FileLayout } from './cutLog.js'
import {
  encodeFile,
  type FramedFormat,
  objectAttributes,
  objectKey,
  storedCompression,
} from './fileEncoding.js'
import type { OpenFile } from './fileRotation.js'
import type { InFlightBudget } from './inFlightBudget.js'
import type { ParquetWorkers } from './parquetWorkers.js'
import { RecordPreparation } from './recordPreparation.js'
import { OpenFileCompression, type StreamingCompression } from './streamingCompression.js'

/**
 * Everything that turns records into named files under one file layout (path template, time,
 * format, compression, sort): a cut is always written with the layout it was cut with, which may
 * be an older config's when a recorded cut is replayed after a config change.
 */
export class Layout {
  readonly preparation: RecordPreparation
  readonly compression: OpenFileCompression
  readonly sorted: boolean
  /** How `FileRotation.append` keeps this layout's records: framed at once, unless sorted or Parquet. */
  readonly framing: FramedFormat | undefined
  /** The compression of the stored bytes (a Parquet file's codec is inside it): what comparing objects undoes. */
  readonly storedCompression: FileCompression

  constructor(
    readonly spec: FileLayout,
    config: TopicConfig,
    budget: InFlightBudget,
    private readonly parquetWorkers: ParquetWorkers,
  ) {
    this.sorted = spec.sortBy !== null
    const format = spec.format
    this.framing = this.sorted || format === 'parquet' ? undefined : format
    this.storedCompression = storedCompression(format, spec.compression)
    // Framed files copy each record into their chunks at once: no copy of its own is needed. Sorted
    // and Parquet files keep each record (with its own copy of its bytes) until the cut.
    this.preparation = new RecordPreparation({ ...config, ...spec }, this.framing === undefined)
    // Sorted files are compressed when cut (their order is known only then); Parquet files are
    // encoded whole when cut, their records counted by the budget until then like a sorted file's.
    const streamed = this.storedCompression
    this.compression = new OpenFileCompression(
      streamed !== 'none' && this.framing !== undefined ? streamed : undefined,
      budget,
    )
  }

  key(file: OpenFile, topic: string, partition: number): string {
    return objectKey(file, topic, partition, this.spec.format, this.spec.compression)
  }

  async encode(
    file: OpenFile,
    topic: string,
    partition: number,
    stream: StreamingCompression | undefined,
  ): Promise<{ body: Buffer; metadata: ObjectMetadata }> {
    const { body, metadata } = await encodeFile(
      file,
      this.spec.format,
      this.spec.compression,
      this.sorted,
      stream,
      { options: this.spec.parquet, partition, workers: this.parquetWorkers },
    )
    return { body, metadata: { ...metadata, attributes: objectAttributes(topic, partition, file) } }
  }
}

/** One Layout per distinct spec, built on first use (an archiver rarely sees more than one). */
export class Layouts {
  readonly #built = new Map<string, Layout>()

  get(spec: FileLayout, config: TopicConfig, budget: InFlightBudget, parquetWorkers: ParquetWorkers): Layout {
    const id = JSON.stringify(spec)
    let layout = this.#built.get(id)
    if (!layout) {
      layout = new Layout(spec, config, budget, parquetWorkers)
      this.#built.set(id, layout)
    }
    return layout
  }
}
