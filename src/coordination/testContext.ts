import { type Logger, silentLogger } from '../util/logging.js'
import { sleep } from '../util/sleep.js'
import type { ProcessContext } from './process.js'

/** A process context under a test's control (see `createTestContext`). */
export interface TestContext {
  readonly ctx: ProcessContext
  /** Asks the process to stop, as a revocation or a node stop would. */
  abort(reason?: unknown): void
  /** Makes `ctx.isOwner()` false without aborting, as after a freeze or a lost lease. */
  loseOwnership(): void
}

/**
 * A `ProcessContext` for unit tests of a process, without Kafka: run `process(ctx)`, call `abort()`
 * and check that it settles; call `loseOwnership()` and check that it takes no more side effects.
 */
export function createTestContext(
  options: {
    partition?: number
    key?: string
    fencingToken?: number
    maxStopMs?: number
    logger?: Logger
  } = {},
): TestContext {
  const controller = new AbortController()
  let owner = true
  return {
    ctx: {
      signal: controller.signal,
      partition: options.partition ?? 0,
      key: options.key ?? '0',
      fencingToken: options.fencingToken ?? 1,
      logger: options.logger ?? silentLogger,
      isOwner: () => owner && !controller.signal.aborted,
      sleep: (ms) => sleep(ms, controller.signal),
      maxStopMs: options.maxStopMs ?? 3000,
    },
    abort: (reason) => controller.abort(reason),
    loseOwnership: () => {
      owner = false
    },
  }
}
