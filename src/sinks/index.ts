/** The sinks: where archived files go. */
export {
  InvalidSinkKeyError,
  InvalidSinkUrlError,
  SinkError,
  SinkObjectNotFoundError,
  type SinkOperation,
} from './errors.js'
export { FileSystemSink } from './fileSystemSink.js'
export {
  type Environment,
  type OpenSinkOptions,
  openSink,
  parseSinkUrl,
  type SinkLocation,
  s3OptionsFromEnv,
  sinkUrlProblem,
} from './openSink.js'
export { defaultPartSize, minPartSize, type S3Credentials, S3Sink, type S3SinkOptions } from './s3Sink.js'
export type { ObjectMetadata, Sink } from './sink.js'
