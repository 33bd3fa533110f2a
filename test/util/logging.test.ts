import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLogger, logLevelFromEnv, parseLogLevel } from '../../src/util/logging.js'

describe('parseLogLevel', () => {
  it('takes every level in any case and says which exist otherwise', () => {
    expect(parseLogLevel(' WARN ')).toEqual({ ok: 'warn' })
    expect(parseLogLevel('silent')).toEqual({ ok: 'silent' })
    expect(parseLogLevel('verbose')).toEqual({ reason: 'expected one of debug, info, warn, error, silent' })
  })
})

describe('logLevelFromEnv', () => {
  it('is undefined when KDP_LOG_LEVEL is unset or empty', () => {
    expect(logLevelFromEnv({})).toBeUndefined()
    expect(logLevelFromEnv({ KDP_LOG_LEVEL: ' ' })).toBeUndefined()
  })

  it('throws on an unknown level, naming the variable and the value', () => {
    expect(() => logLevelFromEnv({ KDP_LOG_LEVEL: 'verbose' })).toThrow(
      'KDP_LOG_LEVEL: "verbose" is not a log level; expected one of debug, info, warn, error, silent',
    )
  })
})

describe('createLogger', () => {
  let dir: string
  let saved: string | undefined

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kdp-logging-'))
    saved = process.env.KDP_LOG_LEVEL
  })
  afterEach(() => {
    if (saved === undefined) delete process.env.KDP_LOG_LEVEL
    else process.env.KDP_LOG_LEVEL = saved
    rmSync(dir, { recursive: true, force: true })
  })

  /** The messages a logger made by `make` writes when it logs once at every level. */
  function written(make: (fd: number) => ReturnType<typeof createLogger>): string[] {
    const path = join(dir, 'log')
    const fd = openSync(path, 'w')
    try {
      const logger = make(fd)
      logger.debug('d')
      logger.info('i')
      logger.warn('w', { password: 'hunter2' })
      logger.error('e')
    } finally {
      closeSync(fd)
    }
    const lines = readFileSync(path, 'utf8').trim().split('\n').filter(Boolean)
    return lines.map((line) => {
      const entry = JSON.parse(line) as { msg: string; password?: string }
      return entry.password === undefined ? entry.msg : `${entry.msg} password=${entry.password}`
    })
  }

  it('logs at KDP_LOG_LEVEL over the default, and at an explicit level over both', () => {
    process.env.KDP_LOG_LEVEL = 'Warn'
    expect(written((fd) => createLogger({ destination: fd, defaultLevel: 'debug' }))).toEqual([
      'w password=[redacted]',
      'e',
    ])
    expect(written((fd) => createLogger({ destination: fd, level: 'debug' }))).toEqual([
      'd',
      'i',
      'w password=[redacted]',
      'e',
    ])
    delete process.env.KDP_LOG_LEVEL
    expect(written((fd) => createLogger({ destination: fd, defaultLevel: 'error' }))).toEqual(['e'])
    expect(written((fd) => createLogger({ destination: fd }))).toEqual(['i', 'w password=[redacted]', 'e'])
  })

  it('refuses an unknown KDP_LOG_LEVEL instead of logging at another level', () => {
    process.env.KDP_LOG_LEVEL = 'verbose'
    expect(() => createLogger({ destination: 2 })).toThrow('KDP_LOG_LEVEL: "verbose" is not a log level')
  })
})
