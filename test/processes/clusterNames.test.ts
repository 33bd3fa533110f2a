import { describe, expect, it } from 'vitest'
import { clusterNames, kdpClusterTopics } from '../../src/processes/clusterNames.js'
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

describe('selectTopics', () => {
  const ownOf = (cluster: string) => new Set(clusterNames(cluster).internal)

  it("leaves out another kdp cluster's own topics on the same Kafka, found as a set", () => {
    const other = clusterNames('staging').internal
    const topics = [...clusterNames('prod').internal, ...other, 'orders', 'orders.dlq', '__consumer_offsets']
    expect(selectTopics(topics, [/.*/], [], ownOf('prod'))).toEqual(['orders'])
  })

  it('still archives user topics named like one of kdp’s, without the whole set', () => {
    const topics = ['orders-events', 'orders-status', 'orders-configs', 'payments-processes', 'payments-cuts']
    expect(selectTopics(topics, [/.*/], [], ownOf('prod'))).toEqual(topics.slice().sort())
  })

  it('finds a cluster whose name has dashes and one started before its cuts topic existed', () => {
    const topics = [
      'eu-west-1-configs',
      'eu-west-1-status',
      'eu-west-1-events',
      'eu-west-1-processes',
      'clicks',
    ]
    expect(kdpClusterTopics(topics)).toEqual(new Set(topics.slice(0, 4)))
    expect(selectTopics(topics, [/.*/], [], ownOf('prod'))).toEqual(['clicks'])
  })
})
