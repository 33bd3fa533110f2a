import { describe, expect, it } from 'vitest'
import { clusterNames } from '../../src/processes/archiverNode.js'
import { selectTopics } from '../../src/processes/master.js'

describe('clusterNames', () => {
  it('counts every topic kdp itself writes as internal, the core’s epochs topic included', () => {
    const names = clusterNames('prod')
    const topics = [
      'prod-configs',
      'prod-status',
      'prod-events',
      'prod-processes',
      'prod-processes-epochs',
      'prod-cuts',
      'orders',
    ]
    expect(selectTopics(topics, [/.*/], [], new Set(names.internal))).toEqual(['orders'])
  })
})
