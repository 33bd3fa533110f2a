import { decodeConfigFields, type TopicConfig } from '../../../src/processes/state/topicConfig.js'

/** A stored topic config: `fields` decoded with their defaults, at revision 1. */
export function topicConfig(topic: string, fields: Record<string, unknown>): TopicConfig {
  return {
    ...decodeConfigFields(fields),
    version: 1,
    topic,
    revision: 1,
    updatedAt: new Date().toISOString(),
  }
}
