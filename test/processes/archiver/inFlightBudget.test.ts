import { describe, expect, it, vi } from 'vitest'
import { InFlightBudget } from '../../../src/processes/archiver/inFlightBudget.js'

describe('InFlightBudget', () => {
  it('starts at zero and keeps its bounds', () => {
    const budget = new InFlightBudget(10, 1000)
    expect(budget.records).toBe(0)
    expect(budget.bytes).toBe(0)
    expect(budget.maxRecords).toBe(10)
    expect(budget.maxBytes).toBe(1000)
    expect(budget.over()).toBe(false)
  })

  it('adds and releases records and bytes', () => {
    const budget = new InFlightBudget(100, 10_000)
    budget.add(3, 300)
    budget.add(2, 50)
    expect(budget.records).toBe(5)
    expect(budget.bytes).toBe(350)
    budget.release(4, 200)
    expect(budget.records).toBe(1)
    expect(budget.bytes).toBe(150)
  })

  it('is over exactly when records reach maxRecords', () => {
    const budget = new InFlightBudget(10, 1000)
    budget.add(9, 0)
    expect(budget.over()).toBe(false)
    budget.add(1, 0)
    expect(budget.over()).toBe(true)
    budget.add(5, 0)
    expect(budget.over()).toBe(true)
    budget.release(6, 0)
    expect(budget.over()).toBe(false)
  })

  it('is over exactly when bytes reach maxBytes', () => {
    const budget = new InFlightBudget(10, 1000)
    budget.add(0, 999)
    expect(budget.over()).toBe(false)
    budget.add(0, 1)
    expect(budget.over()).toBe(true)
    budget.release(0, 1)
    expect(budget.over()).toBe(false)
  })

  it('is over when either bound is reached', () => {
    const budget = new InFlightBudget(10, 1000)
    budget.add(10, 1)
    expect(budget.over()).toBe(true)
    budget.release(10, 1)
    budget.add(1, 1000)
    expect(budget.over()).toBe(true)
  })

  it('never goes below zero on release', () => {
    const budget = new InFlightBudget(10, 1000)
    budget.add(2, 20)
    budget.release(5, 50)
    expect(budget.records).toBe(0)
    expect(budget.bytes).toBe(0)
    budget.release(1, 1)
    expect(budget.records).toBe(0)
    expect(budget.bytes).toBe(0)
    // Each counter is clamped on its own.
    budget.add(3, 30)
    budget.release(1, 100)
    expect(budget.records).toBe(2)
    expect(budget.bytes).toBe(0)
    // Nothing was lost by the clamping: adding after it counts from zero.
    budget.add(0, 5)
    expect(budget.bytes).toBe(5)
  })

  it('relieve calls every registered reliever once', () => {
    const budget = new InFlightBudget(10, 1000)
    const first = vi.fn()
    const second = vi.fn()
    budget.onPressure(first)
    budget.onPressure(second)
    budget.relieve()
    expect(first).toHaveBeenCalledTimes(1)
    expect(second).toHaveBeenCalledTimes(1)
    budget.relieve()
    expect(first).toHaveBeenCalledTimes(2)
    expect(second).toHaveBeenCalledTimes(2)
  })

  it('relieve with no relievers does nothing', () => {
    const budget = new InFlightBudget(10, 1000)
    expect(() => budget.relieve()).not.toThrow()
  })

  it('does not call a reliever after it unsubscribed', () => {
    const budget = new InFlightBudget(10, 1000)
    const first = vi.fn()
    const second = vi.fn()
    const unsubscribeFirst = budget.onPressure(first)
    budget.onPressure(second)
    unsubscribeFirst()
    budget.relieve()
    expect(first).not.toHaveBeenCalled()
    expect(second).toHaveBeenCalledTimes(1)
    // Unsubscribing twice is harmless and leaves the others registered.
    unsubscribeFirst()
    budget.relieve()
    expect(second).toHaveBeenCalledTimes(2)
  })

  it('lets a reliever change the counts it is asked to relieve', () => {
    const budget = new InFlightBudget(10, 1000)
    budget.add(10, 500)
    budget.onPressure(() => budget.release(10, 500))
    expect(budget.over()).toBe(true)
    budget.relieve()
    expect(budget.over()).toBe(false)
    expect(budget.records).toBe(0)
  })
})
