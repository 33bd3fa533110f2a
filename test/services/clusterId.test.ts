import { describe, expect, it } from 'vitest'
import { clusterId } from '../../services/kafka.js'

describe('clusterId (the KRaft cluster id of a test broker)', () => {
  it('never starts with "-", which the storage tool would read as a flag', () => {
    // One random id in 64 starts with '-': 5,000 draws find one with certainty if it is not excluded.
    const ids = Array.from({ length: 5000 }, () => clusterId())
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([])
    // Still 16 random bytes in base64url, as `kafka-storage random-uuid` prints.
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
