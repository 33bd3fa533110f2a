// IMDSv2 against moto's instance metadata endpoint (a token first, then the id with it).
import { createServer } from 'node:net'
import { describe, expect, inject, it } from 'vitest'
import { instanceIdFromImds, isInstanceId } from '../../../src/processes/scaler/instanceId.js'

describe('the instance id from IMDSv2', () => {
  it('asks for a session token, then the instance id with it', async () => {
    const id = await instanceIdFromImds({ endpoint: inject('motoEndpoint') })
    // moto's metadata service answers one fixed id.
    expect(id).toBe('i-fake')
    expect(
      await instanceIdFromImds({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: inject('motoEndpoint') } }),
    ).toBe('i-fake')
  })

  it('fails with a message saying what to do when nothing answers, within its bound', async () => {
    // A port that accepts connections and never answers: off EC2, 169.254.169.254 is like that.
    const silent = createServer(() => {})
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const address = silent.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    const began = performance.now()
    await expect(
      instanceIdFromImds({ endpoint: `http://127.0.0.1:${address.port}`, timeoutMs: 300 }),
    ).rejects.toThrow(/did not answer .*Give --instance-id or KDP_INSTANCE_ID/)
    expect(performance.now() - began).toBeLessThan(5000)
    silent.close()
  })

  it('knows an instance id when it sees one', () => {
    expect(isInstanceId('i-0123456789abcdef0')).toBe(true)
    expect(isInstanceId('host-1')).toBe(false)
    expect(isInstanceId('i-')).toBe(false)
  })
})
