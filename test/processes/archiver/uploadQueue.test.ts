import { describe, expect, it } from 'vitest'
import { UploadQueue } from '../../../src/processes/archiver/uploadQueue.js'

/** A step the test finishes by hand. */
function gate(): { promise: Promise<void>; open: () => void; fail: (error: Error) => void } {
  let open = (): void => {}
  let fail = (_error: Error): void => {}
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  return { promise, open, fail }
}

describe('UploadQueue', () => {
  it('runs steps one after another in the order they were pushed', async () => {
    const queue = new UploadQueue()
    const log: string[] = []
    const first = gate()
    queue.push(async () => {
      log.push('first started')
      await first.promise
      log.push('first done')
    })
    queue.push(async () => {
      log.push('second ran')
    })
    await Promise.resolve()
    expect(queue.size).toBe(2)
    expect(log).toEqual(['first started'])
    first.open()
    await queue.drained()
    expect(log).toEqual(['first started', 'first done', 'second ran'])
    expect(queue.size).toBe(0)
  })

  it('oldest() resolves when the oldest step finishes, before the later ones', async () => {
    const queue = new UploadQueue()
    const first = gate()
    const second = gate()
    queue.push(() => first.promise)
    queue.push(() => second.promise)
    let oldestDone = false
    const oldest = queue.oldest().then(() => {
      oldestDone = true
    })
    await Promise.resolve()
    expect(oldestDone).toBe(false)
    first.open()
    await oldest
    expect(queue.size).toBe(1)
    second.open()
    await queue.drained()
    expect(queue.size).toBe(0)
  })

  it('skips every later step once a step fails, and reports the failure', async () => {
    const queue = new UploadQueue()
    const ran: number[] = []
    queue.push(async () => {
      ran.push(1)
      throw new Error('disk on fire')
    })
    queue.push(async () => {
      ran.push(2)
    })
    await queue.drained()
    expect(ran).toEqual([1])
    expect(() => queue.throwIfFailed()).toThrow('disk on fire')
    queue.push(async () => {
      ran.push(3)
    })
    await queue.drained()
    expect(ran).toEqual([1])
  })

  it('an empty queue is drained and has nothing oldest to wait for', async () => {
    const queue = new UploadQueue()
    await queue.drained()
    await queue.oldest()
    expect(queue.size).toBe(0)
    expect(() => queue.throwIfFailed()).not.toThrow()
  })
})
