import { messageOf } from '../../util/errors.js'

/**
 * A node's EC2 instance id, which the scaler needs to terminate exactly the node it drained: given
 * (`--instance-id`, `KDP_INSTANCE_ID`), or asked from the instance metadata service with IMDSv2 (a
 * session token first, then the id with it; IMDSv1 is never used). The token is never logged.
 */

/** The AWS SDK's own variable for the metadata endpoint; the link-local address otherwise. */
export const imdsEndpointVariable = 'AWS_EC2_METADATA_SERVICE_ENDPOINT'
const defaultEndpoint = 'http://169.254.169.254'

const instanceIdPattern = /^i-[A-Za-z0-9]{1,64}$/

/** Whether `text` looks like an EC2 instance id (`i-0abc…`). */
export function isInstanceId(text: string): boolean {
  return instanceIdPattern.test(text)
}

export class InstanceIdError extends Error {
  override readonly name = 'InstanceIdError'
}

/**
 * Asks IMDSv2 for this machine's instance id. `endpoint` defaults to `AWS_EC2_METADATA_SERVICE_ENDPOINT`
 * or `http://169.254.169.254`; every request is bounded by `timeoutMs` (IMDS answers in
 * milliseconds on EC2; off EC2 the address does not answer at all).
 */
export async function instanceIdFromImds(
  options: { endpoint?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const endpoint = (options.endpoint ?? options.env?.[imdsEndpointVariable] ?? defaultEndpoint).replace(
    /\/+$/,
    '',
  )
  const timeoutMs = options.timeoutMs ?? 2000
  const ask = async (path: string, init: RequestInit): Promise<string> => {
    let response: Response
    try {
      response = await fetch(`${endpoint}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    } catch (error) {
      throw new InstanceIdError(
        `the instance metadata service at ${endpoint} did not answer (${messageOf(error)}); not on EC2? Give --instance-id or KDP_INSTANCE_ID`,
      )
    }
    if (!response.ok)
      throw new InstanceIdError(
        `the instance metadata service answered ${response.status} to ${init.method ?? 'GET'} ${path}`,
      )
    return (await response.text()).trim()
  }
  const token = await ask('/latest/api/token', {
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
  })
  const id = await ask('/latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': token } })
  if (!isInstanceId(id))
    throw new InstanceIdError(
      `the instance metadata service gave no instance id (got ${JSON.stringify(id.slice(0, 40))})`,
    )
  return id
}
