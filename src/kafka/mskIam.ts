// Amazon MSK with IAM access control: SASL OAUTHBEARER whose token is a SigV4-signed request made
// by AWS's own signer (`aws-msk-iam-sasl-signer-js`) from the default AWS credential chain
// (environment, shared config and SSO profiles, web identity, ECS and EC2 instance roles).
import { CredentialsError, type SaslOptions } from './connection.js'

/** What kdp needs of the signer: a token for a region. */
export type MskTokenSigner = (options: { region: string }) => Promise<{ token: string; expiryTime?: number }>

/** The package that signs MSK IAM tokens; loaded only when a connection uses MSK IAM. */
export const mskSignerPackage = 'aws-msk-iam-sasl-signer-js'

/** Loads `generateAuthToken` of aws-msk-iam-sasl-signer-js; a clear error when it is not installed. */
export async function loadMskSigner(): Promise<MskTokenSigner> {
  let loaded: unknown
  try {
    // A name in a variable: the package (and the AWS SDK under it) is loaded only by those who use it.
    const name: string = mskSignerPackage
    loaded = await import(name)
  } catch (error) {
    throw new CredentialsError(
      `AWS MSK IAM authentication needs the package ${mskSignerPackage} (npm install ${mskSignerPackage}): ${
        error instanceof Error ? error.message.split('\n')[0] : String(error)
      }`,
    )
  }
  const generate = (loaded as { generateAuthToken?: unknown } | null)?.generateAuthToken
  if (typeof generate !== 'function') {
    throw new CredentialsError(
      `${mskSignerPackage} has no generateAuthToken function: an unsupported version?`,
    )
  }
  return async (options) => {
    let result: unknown
    try {
      result = await generate(options)
    } catch (error) {
      // The credential chain found nothing, or STS refused: the signer's message says which.
      throw new CredentialsError(
        `could not sign an MSK IAM token for ${options.region}: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
    const token = (result as { token?: unknown } | null)?.token
    if (typeof token !== 'string' || token === '')
      throw new CredentialsError(`${mskSignerPackage} returned no token for region ${options.region}`)
    const expiryTime = (result as { expiryTime?: unknown }).expiryTime
    return { token, ...(typeof expiryTime === 'number' && { expiryTime }) }
  }
}

/** A token this close to its expiry is signed again rather than reused. */
const renewBeforeMs = 60_000

/**
 * SASL options for Amazon MSK with IAM in `region` (the cluster's region). A node opens many
 * connections (one per broker and client), so a signed token is reused until a minute before it
 * expires (15 minutes after signing); rotated credentials are picked up with the next token.
 * `signer` replaces the AWS package (tests, or a custom credential provider).
 */
export function mskIamSasl(options: {
  readonly region: string
  readonly signer?: MskTokenSigner
}): SaslOptions {
  let signer: Promise<MskTokenSigner> | undefined = options.signer && Promise.resolve(options.signer)
  let cached: { token: string; expiryTime: number } | undefined
  return {
    mechanism: 'oauthbearer',
    token: async () => {
      if (cached && cached.expiryTime - Date.now() > renewBeforeMs) return cached.token
      signer ??= loadMskSigner()
      const loaded = await signer.catch((error: unknown) => {
        // A failed load is not cached: installing the package needs no restart of a library user.
        signer = undefined
        throw error
      })
      const signed = await loaded({ region: options.region })
      cached =
        signed.expiryTime === undefined ? undefined : { token: signed.token, expiryTime: signed.expiryTime }
      return signed.token
    },
  }
}
