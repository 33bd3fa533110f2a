/** Metadata stored with an object. */
export interface ObjectMetadata {
  readonly contentType: string
  /** 'gzip' or 'zstd' when the body is compressed as a whole. */
  readonly contentEncoding?: string
  /**
   * Small string attributes that identify what the object holds (the archiver's first and last
   * offset and record count). S3 stores them as user metadata (`x-amz-meta-*`) and, when asked, as
   * object tags; sinks that cannot store them ignore them (the archiver then compares contents).
   */
  readonly attributes?: Readonly<Record<string, string>>
}

/** An object that was already under a key when `create` came. */
export interface ExistingObject {
  /** Its attributes as the sink stored them; empty when the sink stores none (or it had none). */
  readonly attributes: Readonly<Record<string, string>>
  /** Reads its bytes (only needed when the attributes cannot tell). */
  read(): Promise<Buffer>
}

/** What `create` did: stored the object, or found one there and left it alone. */
export type CreateOutcome =
  | { readonly created: true }
  | { readonly created: false; readonly existing: ExistingObject }

/**
 * Where an archiver's files go. Small on purpose, so that Cassandra or Elasticsearch sinks can be
 * added: a sink stores whole objects under keys. The archiver only ever *creates* objects
 * (`create`: never replaces one), so that a node that lost its partition cannot overwrite what the
 * new owner wrote; deterministic names make a re-upload after a crash find its own earlier upload.
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
  /**
   * Stores `body` under `key` only if no object is there, atomically (S3: `If-None-Match: *` on
   * PutObject and CompleteMultipartUpload; file system: a hard link that never replaces). Resolves
   * `{ created: true }` once durable, or `{ created: false, existing }` when an object was already
   * there (it is left untouched). Rejects on failure like `put`.
   */
  create(key: string, body: Buffer, metadata: ObjectMetadata, signal?: AbortSignal): Promise<CreateOutcome>
  /** Keys under `prefix` (relative to the sink's own prefix), sorted. */
  list(prefix?: string): Promise<string[]>
  /** The object's bytes; rejects if missing. */
  get(key: string): Promise<Buffer>
  /** Releases connections. */
  close(): Promise<void>
}
