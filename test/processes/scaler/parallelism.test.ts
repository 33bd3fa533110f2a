import { describe, expect, it } from 'vitest'
import { partitionOfKey } from '../../../src/coordination/processSet.js'
import { archiverKey } from '../../../src/processes/archiverSet.js'
import { defaultScalerConfig } from '../../../src/processes/scaler/config.js'
import type { Sample } from '../../../src/processes/scaler/decision.js'
import {
  autoInstances,
  type ParallelismConfig,
  placeSlots,
} from '../../../src/processes/scaler/parallelism.js'

const config: ParallelismConfig = {
  ...defaultScalerConfig,
  instanceRecordsPerSec: 1000,
  maxDrainMs: 10_000,
  growingIntervals: 3,
  calmIntervals: 3,
  calmLag: 100,
  targetLag: 1000,
  intervalMs: 1000,
}

function samples(points: ReadonlyArray<{ lag: number; inRate: number }>): Sample[] {
  return points.map((p, i) => ({
    at: i * 1000,
    streams: [{ topic: 't', sink: 's', lag: p.lag, inRate: p.inRate, outRate: p.inRate, maxInstances: 8 }],
    nodes: 4,
    meanCpuPercent: 10,
  }))
}

const base = { partitions: 8, nodes: 4, current: 1, topic: 't', lastChangeAt: undefined, now: 10_000 }

describe('autoInstances', () => {
  it('sizes from the rate in and the lag to drain within maxDrain', () => {
    // 2500 rec/s + 5000 / 10 s = 3000 rec/s: 3 instances of 1000.
    expect(
      autoInstances({ ...base, history: samples([{ lag: 5000, inRate: 2500 }]) }, config).instances,
    ).toBe(3)
    expect(autoInstances({ ...base, history: samples([{ lag: 0, inRate: 10 }]) }, config).instances).toBe(1)
  })

  it('never more than the partitions nor the nodes', () => {
    const busy = samples([{ lag: 0, inRate: 50_000 }])
    expect(autoInstances({ ...base, history: busy }, config).instances).toBe(4)
    expect(autoInstances({ ...base, nodes: 16, history: busy }, config).instances).toBe(8)
    expect(autoInstances({ ...base, nodes: 0, history: busy }, config).instances).toBe(1)
  })

  it('adds one while the lag keeps growing although the rate says one is enough', () => {
    const growing = samples([200, 300, 400, 500].map((lag) => ({ lag, inRate: 100 })))
    const r = autoInstances({ ...base, history: growing }, config)
    expect(r).toMatchObject({ instances: 2 })
    expect(r.reason).toMatch(/lag grew 3 intervals/)
    // Not again right after a change: the rebalance it caused must settle first.
    expect(
      autoInstances({ ...base, current: 2, lastChangeAt: 9000, history: growing }, config).instances,
    ).toBe(2)
  })

  it('shrinks only after calmIntervals samples that all size lower', () => {
    const quiet = samples([
      { lag: 0, inRate: 500 },
      { lag: 0, inRate: 400 },
      { lag: 0, inRate: 300 },
    ])
    expect(autoInstances({ ...base, current: 3, history: quiet }, config).instances).toBe(1)
    expect(autoInstances({ ...base, current: 3, history: quiet.slice(1) }, config).instances).toBe(3)
    const burst = samples([
      { lag: 0, inRate: 2500 },
      { lag: 0, inRate: 400 },
      { lag: 0, inRate: 300 },
    ])
    expect(autoInstances({ ...base, current: 3, history: burst }, config).instances).toBe(3)
  })

  it('gives up instances beyond the nodes left', () => {
    expect(
      autoInstances({ ...base, nodes: 2, current: 4, history: samples([{ lag: 0, inRate: 5000 }]) }, config)
        .instances,
    ).toBe(2)
  })
})

describe('placeSlots', () => {
  const partitions = 32
  /** Partitions dealt round-robin to the nodes. */
  function owners(nodes: readonly string[]): Map<number, string> {
    return new Map(Array.from({ length: partitions }, (_, p) => [p, nodes[p % nodes.length] as string]))
  }
  const nodeOf = (slot: number, own: Map<number, string>) =>
    own.get(partitionOfKey(archiverKey('t', 's', slot), partitions))

  it('puts each new instance on a node without one, the least loaded first', () => {
    const own = owners(['a', 'b', 'c'])
    const load = new Map([
      ['a', 5],
      ['b', 1],
      ['c', 3],
    ])
    const first = placeSlots({
      topic: 't',
      sink: 's',
      instances: 1,
      current: [],
      owners: own,
      load,
      partitions,
      maxMoves: 1,
    })
    expect(first.slots.map((s) => nodeOf(s, own))).toEqual(['b'])
    const three = placeSlots({
      topic: 't',
      sink: 's',
      instances: 3,
      current: first.slots,
      owners: own,
      load,
      partitions,
      maxMoves: 1,
    })
    expect(three.slots).toContain(first.slots[0])
    expect(new Set(three.slots.map((s) => nodeOf(s, own)))).toEqual(new Set(['a', 'b', 'c']))
    expect(three.moved).toEqual([])
  })

  it('moves one instance per round from a crowded node to an empty one', () => {
    const own = owners(['a', 'b', 'c'])
    // Three slots that all hash onto node a's partitions.
    const onA = Array.from({ length: 200 }, (_, s) => s)
      .filter((s) => nodeOf(s, own) === 'a')
      .slice(0, 3)
    const load = new Map([
      ['a', 0],
      ['b', 0],
      ['c', 0],
    ])
    const round1 = placeSlots({
      topic: 't',
      sink: 's',
      instances: 3,
      current: onA,
      owners: own,
      load,
      partitions,
      maxMoves: 1,
    })
    expect(round1.moved).toHaveLength(1)
    const round2 = placeSlots({
      topic: 't',
      sink: 's',
      instances: 3,
      current: round1.slots,
      owners: own,
      load,
      partitions,
      maxMoves: 1,
    })
    expect(round2.moved).toHaveLength(1)
    expect(new Set(round2.slots.map((s) => nodeOf(s, own))).size).toBe(3)
    const round3 = placeSlots({
      topic: 't',
      sink: 's',
      instances: 3,
      current: round2.slots,
      owners: own,
      load,
      partitions,
      maxMoves: 1,
    })
    expect(round3).toEqual({ slots: round2.slots, moved: [] })
  })

  it('shrinks from the most crowded node, and drops slots on nodes that no longer archive first', () => {
    const own = owners(['a', 'b'])
    const onA = Array.from({ length: 200 }, (_, s) => s)
      .filter((s) => nodeOf(s, own) === 'a')
      .slice(0, 2)
    const onB = Array.from({ length: 200 }, (_, s) => s)
      .filter((s) => nodeOf(s, own) === 'b')
      .slice(0, 1)
    const load = new Map([
      ['a', 0],
      ['b', 0],
    ])
    const shrunk = placeSlots({
      topic: 't',
      sink: 's',
      instances: 2,
      current: [...onA, ...onB],
      owners: own,
      load,
      partitions,
      maxMoves: 0,
    })
    expect(new Set(shrunk.slots.map((s) => nodeOf(s, own)))).toEqual(new Set(['a', 'b']))
    // Node b drains: its partitions have no archiving owner any more.
    const withoutB = new Map([...own].filter(([, n]) => n === 'a'))
    const one = placeSlots({
      topic: 't',
      sink: 's',
      instances: 1,
      current: shrunk.slots,
      owners: withoutB,
      load: new Map([['a', 0]]),
      partitions,
      maxMoves: 1,
    })
    expect(one.slots.map((s) => nodeOf(s, own))).toEqual(['a'])
  })

  it('keeps the slots it has when nothing is known about owners (at startup)', () => {
    const r = placeSlots({
      topic: 't',
      sink: 's',
      instances: 2,
      current: [0],
      owners: new Map(),
      load: new Map(),
      partitions,
      maxMoves: 1,
    })
    expect(r).toEqual({ slots: [0, 1], moved: [] })
  })
})
