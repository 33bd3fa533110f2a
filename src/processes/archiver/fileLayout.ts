import type { ObjectMetadata } from '../../sinks/sink.js'
import type { TopicConfig } from '../state/topicConfig.js'
import type { FileLayout } from './cutLog.js'
import { encodeFile, type FileFormat, objectAttributes, objectKey } from './fileEncoding.js'
import type { OpenFile } from './fileRotation.js'
import type { InFlightBudget } from './inFlightBudget.js'
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

  constructor(
    readonly spec: FileLayout,
    config: TopicConfig,
    budget: InFlightBudget,
  ) {
    this.sorted = spec.sortBy !== null
    // Unsorted files frame each record into their chunks at once: no copy of its own is needed.
    this.preparation = new RecordPreparation({ ...config, ...spec }, this.sorted)
    // Sorted files are compressed when cut (their order is known only then).
    this.compression = new OpenFileCompression(
      spec.format,
      spec.compression !== 'none' && !this.sorted ? spec.compression : undefined,
      budget,
    )
  }

  /** How `FileRotation.append` keeps this layout's records: framed at once, unless sorted. */
  get framing(): FileFormat | undefined {
    return this.sorted ? undefined : this.spec.format
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
    )
    return { body, metadata: { ...metadata, attributes: objectAttributes(topic, partition, file) } }
  }
}

/** One Layout per distinct spec, built on first use (an archiver rarely sees more than one). */
export class Layouts {
  readonly #built = new Map<string, Layout>()

  get(spec: FileLayout, config: TopicConfig, budget: InFlightBudget): Layout {
    const id = JSON.stringify(spec)
    let layout = this.#built.get(id)
    if (!layout) {
      layout = new Layout(spec, config, budget)
      this.#built.set(id, layout)
    }
    return layout
  }
}
