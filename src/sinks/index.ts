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
export { S3Sink } from './s3Sink.js'
export { defaultPartSize, minPartSize, type S3Credentials, type S3SinkOptions } from './s3SinkOptions.js'
export type { ObjectMetadata, Sink } from './sink.js'
