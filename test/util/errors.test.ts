import { describe, expect, it } from 'vitest'
import { SinkError } from '../../src/sinks/errors.js'
import { isRetriable, messageOf } from '../../src/util/errors.js'

function named(name: string): Error {
  const error = new Error('x')
  error.name = name
  return error
}

function withCode(code: string): Error {
  return Object.assign(new Error('x'), { code })
}

describe('isRetriable', () => {
  it("follows an error's own flag and takes anything else as transient", () => {
    expect(isRetriable({ retriable: false })).toBe(false)
    expect(isRetriable(Object.assign(new Error('kafkajs'), { retriable: true }))).toBe(true)
    expect(isRetriable(new Error('ECONNRESET'))).toBe(true)
    expect(isRetriable('a string')).toBe(true)
    expect(isRetriable(undefined)).toBe(true)
  })

  it('says a sink error is permanent for access and bucket problems, transient otherwise', () => {
    const sink = (cause: unknown) => new SinkError('put', 's3://b/p', 'k', 'failed', { cause })
    for (const name of ['AccessDenied', 'NoSuchBucket', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'])
      expect(isRetriable(sink(named(name))), name).toBe(false)
    for (const code of ['EACCES', 'EROFS']) expect(isRetriable(sink(withCode(code))), code).toBe(false)
    for (const name of ['SlowDown', 'InternalError', 'ServiceUnavailable', 'TimeoutError'])
      expect(isRetriable(sink(named(name))), name).toBe(true)
    for (const code of ['ECONNREFUSED', 'ENOSPC', 'ETIMEDOUT'])
      expect(isRetriable(sink(withCode(code))), code).toBe(true)
    expect(isRetriable(new SinkError('put', 'file:///x', 'k', 'odd', { retriable: false }))).toBe(false)
  })
})

describe('messageOf', () => {
  it('names the error class unless it is a plain Error', () => {
    expect(messageOf(new Error('plain'))).toBe('plain')
    expect(messageOf(new TypeError('typed'))).toBe('TypeError: typed')
    expect(messageOf(withCode('ENOENT'))).toBe('x')
    expect(messageOf(Object.assign(new Error(''), { code: 'ENOENT' }))).toBe('ENOENT')
    expect(messageOf(42)).toBe('42')
  })
})
