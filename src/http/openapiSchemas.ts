import { ScalingRecommendation } from '../processes/scaler/commands.js'
import { ScalerConfig, ScalerConfigFields } from '../processes/scaler/config.js'
import { FeedEvent } from '../processes/state/eventFeed.js'
import { DrainStatus, ProcessStatus, ReportedNode } from '../processes/state/status.js'
import {
  KafkaTopicName,
  Rotation,
  SinkSpec,
  TimeSource,
  TopicConfig,
  TopicConfigFields,
} from '../processes/state/topicConfig.js'
import { FieldError } from '../util/decode.js'
import { type Component, componentSchemas, type Json, type JsonSchema } from '../util/jsonSchema.js'
import { ApiError } from './errors.js'
import { ConfigChange, HistoryPoint, NodeRemoved, StreamSnapshot } from './live/shapes.js'
import { Health, Placement } from './routes/cluster.js'
import { LagTotals, PartitionLag, TopicLag } from './routes/lag.js'
import { TopicEntry } from './routes/topics.js'

/**
 * The `components.schemas` of the OpenAPI document, derived from the codecs that decode and type
 * the same shapes: nothing here is written by hand but the names. A request body is documented as
 * the decoder reads it (`input`: defaults may be left out), a response as the server writes it
 * (`output`: every field present).
 */

export type { Json, JsonSchema }

const input = (codec: Component['codec']): Component => ({ codec, mode: 'input' })
const output = (codec: Component['codec']): Component => ({ codec, mode: 'output' })

const components = {
  Error: output(ApiError),
  FieldError: output(FieldError),
  TopicName: output(KafkaTopicName),
  SinkSpec: input(SinkSpec),
  TimeSource: input(TimeSource),
  Rotation: input(Rotation),
  TopicConfigFields: input(TopicConfigFields),
  TopicConfig: output(TopicConfig),
  TopicEntry: output(TopicEntry),
  // The API's node status is the published record plus `lost`; the record alone is not served.
  NodeStatus: output(ReportedNode),
  ProcessStatus: output(ProcessStatus),
  Placement: output(Placement),
  Health: output(Health),
  TopicLag: output(TopicLag),
  LagTotals: output(LagTotals),
  PartitionLag: output(PartitionLag),
  FeedEvent: output(FeedEvent),
  StreamSnapshot: output(StreamSnapshot),
  HistoryPoint: output(HistoryPoint),
  ConfigChange: output(ConfigChange),
  NodeRemoved: output(NodeRemoved),
  DrainStatus: output(DrainStatus),
  ScalerConfigFields: input(ScalerConfigFields),
  ScalerConfig: output(ScalerConfig),
  ScalingRecommendation: output(ScalingRecommendation),
} as const

/** The name of a component schema. */
export type SchemaName = keyof typeof components

export const schemas: Readonly<Record<SchemaName, JsonSchema>> = componentSchemas(components)

/** A `$ref` to a component schema; the name is checked by the compiler. */
export function schemaRef(name: SchemaName): JsonSchema {
  return { $ref: `#/components/schemas/${name}` }
}
