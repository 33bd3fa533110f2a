// The overlap detector itself, on journals written by hand: it must see every overlap it is meant to.
import { describe, expect, it } from 'vitest'
import {
  type InstanceEvent,
  maxDownAtOnce,
  type NodeEvent,
  overlaps,
  processesOn,
} from './harness/journal.js'

const e = (
  kind: InstanceEvent['kind'],
  process: number,
  node: string,
  at: number,
  token = 1,
  instance = `${node}-${process}-${token}`,
): InstanceEvent => ({ kind, process, node, instance, token, at })
const n = (kind: NodeEvent['kind'], node: string, at: number): NodeEvent => ({ kind, node, at })

describe('overlaps', () => {
  it('finds nothing in a clean handover: STOP on one node before START on the other', () => {
    const events = [
      e('START', 0, 'a', 0),
      e('STEP', 0, 'a', 5),
      e('STOP', 0, 'a', 10),
      e('START', 0, 'b', 10, 2),
    ]
    expect(overlaps(events, [])).toEqual([])
  })

  it('sees a START while the other instance is still stopping', () => {
    const events = [e('START', 0, 'a', 0), e('STOP', 0, 'a', 12), e('START', 0, 'b', 11, 2)]
    expect(overlaps(events, [])).toHaveLength(1)
  })

  it('sees a STEP of the old owner after the new one started, even without a START overlap', () => {
    const events = [
      e('START', 0, 'a', 0),
      e('STEP', 0, 'a', 30),
      e('STOP', 0, 'a', 31),
      e('START', 0, 'b', 20, 2),
    ]
    expect(overlaps(events, []).length).toBeGreaterThan(0)
  })

  it("ends a killed node's instances at the kill", () => {
    const events = [e('START', 0, 'a', 0), e('STEP', 0, 'a', 5), e('START', 0, 'b', 20, 2)]
    expect(overlaps(events, [n('KILL', 'a', 10)])).toEqual([])
    expect(overlaps(events, [n('KILL', 'a', 25)])).toHaveLength(1)
  })

  it("ends a frozen node's instance at the freeze if it takes no step after resuming", () => {
    const events = [
      e('START', 0, 'a', 0),
      e('STEP', 0, 'a', 5),
      e('STOP', 0, 'a', 60),
      e('START', 0, 'b', 30, 2),
    ]
    expect(overlaps(events, [n('FREEZE', 'a', 10), n('THAW', 'a', 50)])).toEqual([])
  })

  it('counts a frozen instance live all through the freeze if it steps after resuming', () => {
    const events = [
      e('START', 0, 'a', 0),
      e('STEP', 0, 'a', 55),
      e('STOP', 0, 'a', 60),
      e('START', 0, 'b', 30, 2),
      e('STEP', 0, 'b', 40, 2),
    ]
    expect(overlaps(events, [n('FREEZE', 'a', 10), n('THAW', 'a', 50)]).length).toBeGreaterThan(0)
  })

  it('requires fencing tokens to grow with every new instance', () => {
    const events = [e('START', 0, 'a', 0, 5), e('STOP', 0, 'a', 10, 5), e('START', 0, 'b', 11, 5)]
    expect(overlaps(events, [])).toEqual([expect.stringContaining('token 5 of b started after token 5 of a')])
    const back = [e('START', 0, 'a', 0, 5), e('STOP', 0, 'a', 10, 5), e('START', 0, 'b', 11, 3)]
    expect(overlaps(back, [])).toHaveLength(1)
  })
})

describe('maxDownAtOnce', () => {
  it('counts the processes with no live instance at the worst moment', () => {
    const events = [
      e('START', 0, 'a', 0),
      e('START', 1, 'a', 0),
      e('START', 2, 'b', 0),
      e('STOP', 0, 'a', 10),
      e('STOP', 1, 'a', 12),
      e('START', 0, 'b', 15, 2),
      e('START', 1, 'b', 16, 2),
    ]
    expect(maxDownAtOnce(events, [], 3, 5, 100)).toMatchObject({ count: 2, at: 12, down: [0, 1] })
    expect(processesOn(events, [], 'a', 5)).toEqual([0, 1])
    expect(processesOn(events, [], 'b', 20)).toEqual([0, 1, 2])
  })

  it("counts a killed node's processes down from the kill", () => {
    const events = [e('START', 0, 'a', 0), e('START', 1, 'b', 0), e('START', 0, 'b', 30, 2)]
    expect(maxDownAtOnce(events, [n('KILL', 'a', 10)], 2, 5, 100)).toMatchObject({ count: 1, down: [0] })
  })
})
