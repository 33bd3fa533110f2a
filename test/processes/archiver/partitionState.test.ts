// The per-partition bookkeeping of cuts: what the cuts log must hold at each moment (pure logic).
import { describe, expect, it } from 'vitest'
import type { Cut } from '../../../src/processes/archiver/cutLog.js'
import { layoutOf } from '../../../src/processes/archiver/cutLog.js'
import { Layout } from '../../../src/processes/archiver/fileLayout.js'
import { InFlightBudget } from '../../../src/processes/archiver/inFlightBudget.js'
import { ParquetWorkers } from '../../../src/processes/archiver/parquetWorkers.js'
import { PartitionState } from '../../../src/processes/archiver/partitionState.js'
import { decodeConfigFields, type TopicConfig } from '../../../src/processes/state/topicConfig.js'

const config: TopicConfig = {
  ...decodeConfigFields({ pathTemplate: 'all' }),
  version: 1,
  topic: 't',
  revision: 3,
  updatedAt: '2026-01-01T00:00:00.000Z',
}
// A JSON Lines layout: its Parquet workers are never started.
const layout = new Layout(layoutOf(config), config, new InFlightBudget(1e9, 1e9), new ParquetWorkers())
const body = Buffer.from('{}')

function stateWith(offsets: number[]): PartitionState {
  const state = new PartitionState(config.rotation, layout)
  for (const offset of offsets) {
    state.cutFrom ??= offset
    state.rotation.append('all', { offset, body, timeMs: 0, sortKey: undefined }, 0)
    state.lastOffset = offset
  }
  return state
}

describe('PartitionState', () => {
  it('records every cut with the pending ones before it, and forgets them once committed', () => {
    const state = stateWith([10, 11, 12])
    const first = state.cut('maxRecords', config.revision, undefined)
    expect(first.cut).toMatchObject({ first: 10, last: 12, reason: 'maxRecords', revision: 3 })
    expect(first.toRecord?.map((c) => [c.first, c.last])).toEqual([[10, 12]])
    expect(state.cutFrom).toBe(13)
    for (const offset of [13, 14]) {
      state.rotation.append('all', { offset, body, timeMs: 0, sortKey: undefined }, 0)
      state.lastOffset = offset
    }
    const second = state.cut('idle', config.revision, undefined)
    // The first is not committed yet: a crash now must still find both.
    expect(second.toRecord?.map((c) => [c.first, c.last])).toEqual([
      [10, 12],
      [13, 14],
    ])
    state.committed(13)
    expect(state.pending.map((c) => [c.first, c.last])).toEqual([[13, 14]])
    state.committed(15)
    expect(state.pending).toEqual([])
  })

  it('replays a recorded cut without recording it again, and keeps the rest of the plan in later records', () => {
    const recorded = (first: number, last: number): Cut => ({
      first,
      last,
      reason: 'memory',
      revision: 2,
      layout: layoutOf(config),
    })
    const state = stateWith([0, 1, 2])
    state.plan = [recorded(0, 2), recorded(5, 9)]
    expect(state.plannedAt(0)).toEqual(recorded(0, 2))
    expect(state.inPlannedCut).toBe(true)
    const replayed = state.cut('replay', config.revision, state.plan[0])
    expect(replayed.cut).toEqual(recorded(0, 2))
    expect(replayed.toRecord).toBeUndefined()
    expect(state.plan).toEqual([recorded(5, 9)])
    // Records between two recorded cuts are cut off before the next one (an alignment), and that
    // new cut is recorded with the cuts still pending and still planned.
    for (const offset of [3, 4]) {
      state.rotation.append('all', { offset, body, timeMs: 0, sortKey: undefined }, 0)
      state.lastOffset = offset
    }
    const next = state.cut('align', config.revision, undefined)
    expect(next.toRecord?.map((c) => [c.first, c.last])).toEqual([
      [0, 2],
      [3, 4],
      [5, 9],
    ])
  })
})
