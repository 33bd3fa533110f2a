// The real AWS signer (aws-msk-iam-sasl-signer-js), offline: with credentials in the environment it
// signs locally, so the token can be checked without AWS. Only MSK itself can accept it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadMskSigner, mskIamSasl } from '../../src/kafka/mskIam.js'

// AWS's documentation example key pair: not a secret.
const accessKeyId = 'AKIAIOSFODNN7EXAMPLE'
const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const saved: Record<string, string | undefined> = {}
const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const

beforeEach(() => {
  for (const name of names) saved[name] = process.env[name]
  process.env.AWS_ACCESS_KEY_ID = accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = secretAccessKey
  delete process.env.AWS_SESSION_TOKEN
  delete process.env.AWS_PROFILE
})
afterEach(() => {
  for (const name of names) {
    if (saved[name] === undefined) delete process.env[name]
    else process.env[name] = saved[name]
  }
})

function decode(token: string): URL {
  return new URL(Buffer.from(token, 'base64url').toString('utf8'))
}

describe('MSK IAM with the official signer', () => {
  it('signs a kafka-cluster:Connect request for the region with the default credential chain', async () => {
    const signer = await loadMskSigner()
    const { token, expiryTime } = await signer({ region: 'eu-west-1' })
    const url = decode(token)
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com')
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect')
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256')
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      new RegExp(`^${accessKeyId}/\\d{8}/eu-west-1/kafka-cluster/aws4_request$`),
    )
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
    // The secret signs; it never travels.
    expect(token).not.toContain(secretAccessKey)
    expect(decode(token).toString()).not.toContain(secretAccessKey)
    expect(expiryTime).toBeGreaterThan(Date.now())
  })

  it('hands kafkajs an OAUTHBEARER token and reuses it until shortly before it expires', async () => {
    const sasl = mskIamSasl({ region: 'us-east-1' })
    expect(sasl.mechanism).toBe('oauthbearer')
    if (sasl.mechanism !== 'oauthbearer') return
    const first = await sasl.token()
    const second = await sasl.token()
    expect(decode(first).host).toBe('kafka.us-east-1.amazonaws.com')
    expect(second).toBe(first)
  })
})
