import { describe, expect, it } from 'vitest'
import { formatCount, formatMegabytesPerSecond, RateMeter, StatusLine } from '../../src/cli/progress.js'
import { capturingLogger } from '../helpers/logs.js'

function fakeTerminal(columns = 40) {
  const writes: string[] = []
  const stream = { columns, write: (text: string) => writes.push(text) > 0 } as unknown as NodeJS.WriteStream
  return { stream, writes }
}

describe('RateMeter', () => {
  it('measures the rate of a growing total over its window', () => {
    const meter = new RateMeter(5000)
    expect(meter.sample(0, 0)).toBe(0)
    expect(meter.sample(100, 1000)).toBe(100)
    expect(meter.sample(300, 2000)).toBe(150)
    // Old samples leave the window: only the last 5 s count.
    for (let s = 3; s <= 10; s++) meter.sample(300 + (s - 2) * 50, s * 1000)
    expect(meter.sample(300 + 9 * 50, 11_000)).toBeCloseTo(50, 5)
  })
})

describe('StatusLine', () => {
  it('redraws one line in place, cut to the terminal width', () => {
    const { stream, writes } = fakeTerminal(20)
    const line = new StatusLine(stream, () => 'x'.repeat(50))
    line.draw()
    expect(writes).toEqual([`\r\x1b[2K${'x'.repeat(19)}`])
    line.stop()
    expect(writes.at(-1)).toBe('\r\x1b[2K')
  })

  it('erases itself around log lines and comes back after them', () => {
    const { stream, writes } = fakeTerminal()
    const logged = capturingLogger()
    const line = new StatusLine(stream, () => 'status', 60_000)
    const logger = line.wrap(logged).child({ c: 1 })
    line.start()
    writes.length = 0
    logger.info('hello', { a: 1 })
    expect(logged.lines).toEqual([{ level: 'info', message: 'hello', fields: { c: 1, a: 1 } }])
    expect(writes).toEqual(['\r\x1b[2K', '\r\x1b[2Kstatus'])
    line.stop()
    writes.length = 0
    logger.warn('after')
    expect(writes).toEqual([])
  })

  it('formats numbers for people', () => {
    expect(formatCount(1234567.4)).toBe('1,234,567')
    expect(formatMegabytesPerSecond(1_500_000)).toBe('1.50 MB/s')
  })
})
