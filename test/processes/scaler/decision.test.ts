import { describe, expect, it } from 'vitest'
import { defaultScalerConfig } from '../../../src/processes/scaler/config.js'
import {
  type Bounds,
  type DecisionConfig,
  decide,
  drainTimeMs,
  lagGrowing,
  type Sample,
  type ScalingState,
  type StreamSample,
} from '../../../src/processes/scaler/decision.js'

const config: DecisionConfig = {
  ...defaultScalerConfig,
  targetLag: 1000,
  calmLag: 100,
  growingIntervals: 3,
  maxDrainMs: 60_000,
  calmIntervals: 4,
  cpuScaleOutPercent: 80,
  cpuScaleInPercent: 50,
  scaleOutCooldownMs: 10_000,
  scaleInCooldownMs: 20_000,
  maxStepOut: 3,
  joinTimeoutMs: 30_000,
  instanceRecordsPerSec: 500,
}
const bounds: Bounds = { min: 1, max: 5, source: 'test' }
const interval = 1000

function stream(lag: number, extra: Partial<StreamSample> = {}): StreamSample {
  return { topic: 't', sink: 's', lag, inRate: 100, outRate: 100, maxInstances: 8, ...extra }
}

/** Samples one interval apart ending at `end`, from lag values (and optional stream overrides). */
function history(
  lags: readonly number[],
  options: { nodes?: number; cpu?: number; end?: number; extra?: Partial<StreamSample> } = {},
): Sample[] {
  const end = options.end ?? 100_000
  return lags.map((lag, i) => ({
    at: end - (lags.length - 1 - i) * interval,
    streams: [stream(lag, options.extra)],
    nodes: options.nodes ?? 2,
    meanCpuPercent: options.cpu ?? 10,
  }))
}

const state = (over: Partial<ScalingState> = {}): ScalingState => ({
  desired: 2,
  draining: false,
  lastOutAt: undefined,
  lastInAt: undefined,
  startedAt: 0,
  ...over,
})

describe('lag signals', () => {
  it('counts growth only when every one of the last N intervals grew and the lag is above calm', () => {
    expect(lagGrowing(history([200, 300, 400, 500]), stream(500), 3, 100)).toBe(true)
    expect(lagGrowing(history([200, 300, 300, 500]), stream(500), 3, 100)).toBe(false)
    expect(lagGrowing(history([300, 400, 500]), stream(500), 3, 100)).toBe(false)
    expect(lagGrowing(history([10, 20, 30, 40]), stream(40), 3, 100)).toBe(false)
  })

  it('times a drain from the net rate, infinite when the lag does not shrink', () => {
    expect(drainTimeMs(stream(1000, { inRate: 100, outRate: 200 }))).toBe(10_000)
    expect(drainTimeMs(stream(1000, { inRate: 200, outRate: 200 }))).toBe(Number.POSITIVE_INFINITY)
    expect(drainTimeMs(stream(0, { inRate: 200, outRate: 0 }))).toBe(0)
  })
})

describe('decide: scale out', () => {
  it('scales out when the lag grew for N intervals, with the reason', () => {
    const d = decide(history([200, 300, 400, 500]), state(), bounds, config, 100_000)
    expect(d).toMatchObject({ action: 'out', desired: 3 })
    expect(d.reason).toMatch(/t→s: lag grew 3 intervals in a row to 500/)
  })

  it('scales out when the time to drain is above the target, stepping by the rate gap within maxStepOut', () => {
    // 5000 lag, in 1000/s, out 500/s: needs (1000 + 5000/60) / 500 ≈ 2.2× the rate: 2 nodes → 5.
    const h = history([5000, 5000], { extra: { inRate: 1000, outRate: 500 } })
    const d = decide(h, state(), bounds, config, 100_000)
    expect(d.action).toBe('out')
    expect(d.desired).toBe(5)
    expect(d.reason).toMatch(/lag 5000 > target 1000 and not draining/)
    expect(decide(h, state(), bounds, { ...config, maxStepOut: 1 }, 100_000).desired).toBe(3)
  })

  it('does not scale out for a lag that drains in time', () => {
    const h = history([5000, 5000], { extra: { inRate: 100, outRate: 300 } })
    expect(decide(h, state(), bounds, config, 100_000).action).toBe('hold')
  })

  it('scales out on CPU over the threshold for N intervals, not for fewer', () => {
    expect(decide(history([0, 0, 0], { cpu: 95 }), state(), bounds, config, 100_000)).toMatchObject({
      action: 'out',
      desired: 3,
    })
    const spike = history([0, 0, 0], { cpu: 95 })
    const mixed = spike.map((s, i) => (i === 0 ? { ...s, meanCpuPercent: 10 } : s))
    expect(decide(mixed, state(), bounds, config, 100_000).action).toBe('hold')
  })

  it('holds with a warning at the maximum and still falling behind', () => {
    const d = decide(history([200, 300, 400, 500]), state({ desired: 5 }), bounds, config, 100_000)
    expect(d.action).toBe('hold')
    expect(d.warnings.join()).toMatch(/at the maximum of 5 nodes \(test\) and still falling behind/)
  })

  it('never asks above the maximum', () => {
    const h = history([5000, 5000], { extra: { inRate: 10_000, outRate: 10 } })
    expect(decide(h, state({ desired: 4 }), bounds, config, 100_000).desired).toBe(5)
  })

  it('holds during the scale-out cooldown, and acts after it', () => {
    const h = history([200, 300, 400, 500], { nodes: 3 })
    const recent = state({ desired: 3, lastOutAt: 95_000 })
    const d = decide(h, recent, bounds, config, 100_000)
    expect(d.action).toBe('hold')
    expect(d.reason).toMatch(/cooldown, 5 s left/)
    expect(decide(h, { ...recent, lastOutAt: 90_000 }, bounds, config, 100_000).action).toBe('out')
  })

  it('waits for asked-for nodes to join, up to the join timeout', () => {
    const h = history([200, 300, 400, 500], { nodes: 2 })
    const waiting = state({ desired: 3, lastOutAt: 80_000 })
    const d = decide(h, waiting, bounds, { ...config, scaleOutCooldownMs: 0 }, 100_000)
    expect(d.reason).toMatch(/waiting for 1 of 3 nodes to join/)
    expect(
      decide(h, { ...waiting, lastOutAt: 60_000 }, bounds, { ...config, scaleOutCooldownMs: 0 }, 100_000)
        .action,
    ).toBe('out')
  })

  it('warns instead of scaling when more nodes cannot help the lagging topic', () => {
    const d = decide(
      history([200, 300, 400, 500], { extra: { maxInstances: 2 } }),
      state(),
      bounds,
      config,
      100_000,
    )
    expect(d.action).toBe('hold')
    expect(d.warnings.join()).toMatch(/cannot use more nodes/)
  })

  it('raises capacity below the minimum, whatever the load', () => {
    expect(
      decide(history([0]), state({ desired: 1 }), { min: 3, max: 5, source: 'group g' }, config, 100_000),
    ).toMatchObject({
      action: 'out',
      desired: 3,
      reason: 'below the minimum of 3 (group g)',
    })
  })
})

describe('decide: scale in', () => {
  const calm = history([0, 10, 0, 5], { nodes: 3, cpu: 20 })

  it('scales in by one after calmIntervals calm samples, with the reason', () => {
    const d = decide(calm, state({ desired: 3 }), bounds, config, 100_000)
    expect(d).toMatchObject({ action: 'in', desired: 2 })
    expect(d.reason).toMatch(/calm for 4 intervals/)
  })

  it('not with fewer calm samples than calmIntervals, nor with one loud sample among them', () => {
    expect(decide(calm.slice(1), state({ desired: 3 }), bounds, config, 100_000).action).toBe('hold')
    const loud = calm.map((s, i) => (i === 1 ? { ...s, streams: [stream(500)] } : s))
    expect(decide(loud, state({ desired: 3 }), bounds, config, 100_000).action).toBe('hold')
  })

  it('not when one node fewer could not read the rate in (instanceRecordsPerSec each)', () => {
    // 1200 rec/s at 500 per instance: 3 nodes needed.
    const busy = history([0, 0, 0, 0], { nodes: 3, cpu: 5, extra: { inRate: 1200, outRate: 1200 } })
    expect(decide(busy, state({ desired: 3 }), bounds, config, 100_000).action).toBe('hold')
    const lighter = history([0, 0, 0, 0], { nodes: 3, cpu: 5, extra: { inRate: 900, outRate: 900 } })
    expect(decide(lighter, state({ desired: 3 }), bounds, config, 100_000).action).toBe('in')
  })

  it('not when the CPU spread over one node fewer would reach cpuScaleInPercent', () => {
    // 3 nodes at 40 %: 2 nodes at 60 %.
    const busy = history([0, 0, 0, 0], { nodes: 3, cpu: 40 })
    const d = decide(busy, state({ desired: 3 }), bounds, config, 100_000)
    expect(d.action).toBe('hold')
    expect(d.reason).toMatch(/steady/)
  })

  it('never below the minimum, never during a drain, never within the scale-in cooldown', () => {
    expect(decide(calm, state({ desired: 1 }), bounds, config, 100_000).action).toBe('hold')
    expect(decide(calm, state({ desired: 3, draining: true }), bounds, config, 100_000).reason).toMatch(
      /drain is under way/,
    )
    const d = decide(calm, state({ desired: 3, lastOutAt: 90_000 }), bounds, config, 100_000)
    expect(d.reason).toMatch(/scale-in cooldown, 10 s left/)
    // The scaler's own start counts as an action: a scaler that just took over waits too.
    expect(decide(calm, state({ desired: 3, startedAt: 95_000 }), bounds, config, 100_000).action).toBe(
      'hold',
    )
  })

  it('waits for asked-for nodes while calm, then ends an instance that never brought up a node', () => {
    const two = history([0, 10, 0, 5], { nodes: 2, cpu: 20 })
    const waiting = decide(two, state({ desired: 3, lastOutAt: 80_000 }), bounds, config, 100_000)
    expect(waiting).toMatchObject({ action: 'hold', desired: 3 })
    expect(waiting.reason).toMatch(/1 nodes asked for have not joined/)
    const late = decide(two, state({ desired: 3, lastOutAt: 60_000 }), bounds, config, 100_000)
    expect(late).toMatchObject({ action: 'in', desired: 2, by: 'unjoined' })
    expect(late.reason).toMatch(/did not join within 30 s/)
    // With every asked-for node there, a scale-in drains.
    expect(decide(calm, state({ desired: 3 }), bounds, config, 100_000).by).toBeUndefined()
  })

  it('scales in above the maximum (bounds lowered), one node at a time', () => {
    expect(decide(history([5000]), state({ desired: 7 }), bounds, config, 100_000)).toMatchObject({
      action: 'in',
      desired: 6,
    })
    expect(
      decide(history([5000]), state({ desired: 7, draining: true }), bounds, config, 100_000).action,
    ).toBe('hold')
  })

  it('holds with a warning when the bounds contradict each other', () => {
    const d = decide(calm, state(), { min: 4, max: 2, source: 'group g and config' }, config, 100_000)
    expect(d.action).toBe('hold')
    expect(d.warnings).toEqual(['the minimum 4 is above the maximum 2 (group g and config)'])
  })
})

describe('decide: no flapping', () => {
  it('a load that steps up and down makes a bounded number of decisions', () => {
    // Simulated cluster: each node reads 500 rec/s; the load steps 300 → 1800 → 300 rec/s.
    let lag = 0
    let desired = 1
    let nodes = 1
    let lastOutAt: number | undefined
    let lastInAt: number | undefined
    const samples: Sample[] = []
    const actions: string[] = []
    for (let second = 0; second < 600; second++) {
      const now = second * 1000
      const inRate = second < 100 ? 300 : second < 300 ? 1800 : 300
      const capacity = nodes * 500
      const outRate = Math.min(capacity, inRate + lag)
      lag = Math.max(0, lag + inRate - outRate)
      // A node reading at its capacity runs at 80 % CPU.
      samples.push({
        at: now,
        streams: [stream(lag, { inRate, outRate })],
        nodes,
        meanCpuPercent: (outRate / capacity) * 80,
      })
      const d = decide(
        samples.slice(-20),
        { desired, draining: false, lastOutAt, lastInAt, startedAt: 0 },
        bounds,
        config,
        now,
      )
      if (d.action === 'out') lastOutAt = now
      if (d.action === 'in') lastInAt = now
      if (d.action !== 'hold') actions.push(`${second}:${d.action}:${d.desired}`)
      desired = d.desired
      // Nodes join 5 s after they are asked for; a scale-in takes effect at once (the drain).
      if (nodes < desired && lastOutAt !== undefined && now - lastOutAt >= 5000) nodes = desired
      if (nodes > desired) nodes = desired
    }
    const outs = actions.filter((a) => a.includes(':out:'))
    const ins = actions.filter((a) => a.includes(':in:'))
    expect(outs.length, actions.join(' ')).toBeGreaterThanOrEqual(1)
    expect(desired, actions.join(' ')).toBe(1)
    // Up to 4 nodes and back down to 1: never more decisions than the steps themselves.
    expect(outs.length + ins.length, actions.join(' ')).toBeLessThanOrEqual(6)
    // Every scale-in comes after the last scale-out: no out-in-out.
    expect(Math.max(...outs.map((a) => Number(a.split(':')[0]))), actions.join(' ')).toBeLessThan(
      Math.min(...ins.map((a) => Number(a.split(':')[0]))),
    )
  })
})
