/** Metadata stored with an object. */
export interface ObjectMetadata {
  readonly contentType: string
  /** 'gzip' when the body is gzip-compressed. */
  readonly contentEncoding?: string
}

/**
 * Where an archiver's files go. Small on purpose, so that Cassandra or Elasticsearch sinks can be
 * added: a sink stores whole objects under keys and overwrites an existing key (deterministic names
 * make a re-upload after a crash replace the same object, which is what gives exactly-once files).
 */
export interface Sink {
  /** The sink's URL as configured (`s3://bucket/prefix`, `file:///dir`); never contains secrets. */
  readonly url: string
  /**
   * Stores `body` under `key` (a relative path with `/`), replacing any object there. Resolves only
   * once the object is durable and complete; a reader never sees a partial object. Rejects on
   * failure (the caller retries); aborting `signal` abandons the write.
   */
  put(key: string, body: Buffer, metadata: ObjectMetadata, signal?: AbortSignal): Promise<void>
  /** Keys under `prefix` (relative to the sink's own prefix), sorted. */
  list(prefix?: string): Promise<string[]>
  /** The object's bytes; rejects if missing. */
  get(key: string): Promise<Buffer>
  /** Releases connections. */
  close(): Promise<void>
}
