import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling'
import { messageOf } from '../../util/errors.js'

/**
 * The scaler's AWS side behind one small interface, so that the decision and the drain protocol
 * never see the SDK: `AwsAutoScaling` on `@aws-sdk/client-auto-scaling`; recommend-only mode has no
 * provider at all (no AWS call is ever made). Credentials come from the SDK's default chain (instance
 * role, environment, profile) and are never logged; errors carry the operation and the AWS error
 * code only.
 */

/** One instance of the group, as the scaler needs it. */
export interface GroupInstance {
  readonly instanceId: string
  /** `Pending`, `InService`, `Terminating`, ... */
  readonly lifecycleState: string
  readonly protectedFromScaleIn: boolean
}

export interface GroupState {
  readonly name: string
  readonly min: number
  readonly max: number
  readonly desired: number
  readonly instances: readonly GroupInstance[]
  /** The group's `NewInstancesProtectedFromScaleIn`: a new instance is protected from its launch on. */
  readonly protectsNewInstances: boolean
}

/** An Auto Scaling group the scaler acts on. Every call takes a signal: the scaler's abort cancels it. */
export interface CapacityProvider {
  readonly group: string
  describe(signal: AbortSignal): Promise<GroupState>
  /** Within the group's bounds (the scaler checks them first: moto does not). */
  setDesired(desired: number, signal: AbortSignal): Promise<void>
  /** Terminates exactly this instance and lowers the desired capacity by one. */
  terminate(instanceId: string, signal: AbortSignal): Promise<void>
  /** Protects instances from the group's own scale-in (only the scaler terminates, after a drain). */
  protect(instanceIds: readonly string[], signal: AbortSignal): Promise<void>
  close(): void
}

/** What went wrong with an AWS call, in the words the scaler's events and backoff use. */
export type AwsErrorCode =
  | 'throttled'
  | 'access-denied'
  | 'group-not-found'
  | 'unreachable'
  | 'invalid-request'
  | 'aws-error'

/** An AWS call that failed: the operation, a code for backoff and events, the cause's message. */
export class AwsCallError extends Error {
  override readonly name = 'AwsCallError'
  constructor(
    readonly operation: string,
    readonly code: AwsErrorCode,
    message: string,
  ) {
    super(`${operation}: ${code}: ${message}`)
  }
}

const throttling = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ResourceContention',
  'ResourceContentionFault',
  'SlowDown',
])
const denied = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'CredentialsProviderError',
])
const network = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
])

/** Classifies an SDK error (or a network one) without ever reading anything secret from it. */
export function classifyAwsError(operation: string, error: unknown): AwsCallError {
  if (error instanceof AwsCallError) return error
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown
    code?: unknown
    $metadata?: { httpStatusCode?: unknown }
  }
  const name = typeof e.name === 'string' ? e.name : ''
  const code = typeof e.code === 'string' ? e.code : ''
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined
  const message = messageOf(error)
  if (throttling.has(name) || status === 429) return new AwsCallError(operation, 'throttled', message)
  if (denied.has(name) || status === 403) return new AwsCallError(operation, 'access-denied', message)
  if (/not found/i.test(message) && /group/i.test(message))
    return new AwsCallError(operation, 'group-not-found', message)
  if (
    network.has(code) ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    (status === undefined && /socket|connect|timed? ?out/i.test(message))
  )
    return new AwsCallError(operation, 'unreachable', message)
  if (name === 'ValidationError') return new AwsCallError(operation, 'invalid-request', message)
  return new AwsCallError(operation, 'aws-error', message)
}

export interface AwsAutoScalingOptions {
  readonly group: string
  /** Default: the SDK's (`AWS_REGION`, the profile, the instance's region). */
  readonly region?: string
  /** An endpoint override (moto in tests, a VPC endpoint). */
  readonly endpoint?: string
  /** Test credentials only; normally the SDK's default chain. Never logged. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string }
  /** Per request (default 5 000); the SDK's own retries are off: the scaler backs off itself. */
  readonly requestTimeoutMs?: number
}

/** A CapacityProvider on an AWS Auto Scaling group. */
export class AwsAutoScaling implements CapacityProvider {
  readonly group: string
  readonly #client: AutoScalingClient

  constructor(options: AwsAutoScalingOptions) {
    this.group = options.group
    const timeout = options.requestTimeoutMs ?? 5_000
    this.#client = new AutoScalingClient({
      ...(options.region !== undefined && { region: options.region }),
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.credentials !== undefined && { credentials: { ...options.credentials } }),
      // One attempt: a throttled call is the scaler's to back off from, as an event, not a silent loop.
      maxAttempts: 1,
      requestHandler: { connectionTimeout: timeout, requestTimeout: timeout, throwOnRequestTimeout: true },
    })
  }

  async describe(signal: AbortSignal): Promise<GroupState> {
    const operation = 'DescribeAutoScalingGroups'
    const answer = await this.#call(operation, signal, () =>
      this.#client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.group] }), {
        abortSignal: signal,
      }),
    )
    const group = answer.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === this.group)
    if (group === undefined)
      throw new AwsCallError(operation, 'group-not-found', `no Auto Scaling group named ${this.group}`)
    return {
      name: this.group,
      min: group.MinSize ?? 0,
      max: group.MaxSize ?? 0,
      desired: group.DesiredCapacity ?? 0,
      protectsNewInstances: group.NewInstancesProtectedFromScaleIn === true,
      instances: (group.Instances ?? []).flatMap((i) =>
        i.InstanceId === undefined
          ? []
          : [
              {
                instanceId: i.InstanceId,
                lifecycleState: i.LifecycleState ?? 'unknown',
                protectedFromScaleIn: i.ProtectedFromScaleIn === true,
              },
            ],
      ),
    }
  }

  async setDesired(desired: number, signal: AbortSignal): Promise<void> {
    await this.#call('SetDesiredCapacity', signal, () =>
      this.#client.send(
        // HonorCooldown false: the scaler keeps its own cooldowns, and the group's would refuse silently.
        new SetDesiredCapacityCommand({
          AutoScalingGroupName: this.group,
          DesiredCapacity: desired,
          HonorCooldown: false,
        }),
        { abortSignal: signal },
      ),
    )
  }

  async terminate(instanceId: string, signal: AbortSignal): Promise<void> {
    await this.#call('TerminateInstanceInAutoScalingGroup', signal, () =>
      this.#client.send(
        new TerminateInstanceInAutoScalingGroupCommand({
          InstanceId: instanceId,
          ShouldDecrementDesiredCapacity: true,
        }),
        {
          abortSignal: signal,
        },
      ),
    )
  }

  async protect(instanceIds: readonly string[], signal: AbortSignal): Promise<void> {
    if (instanceIds.length === 0) return
    await this.#call('SetInstanceProtection', signal, () =>
      this.#client.send(
        new SetInstanceProtectionCommand({
          AutoScalingGroupName: this.group,
          InstanceIds: [...instanceIds],
          ProtectedFromScaleIn: true,
        }),
        { abortSignal: signal },
      ),
    )
  }

  close(): void {
    this.#client.destroy()
  }

  async #call<T>(operation: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    if (signal.aborted) throw new AwsCallError(operation, 'unreachable', 'aborted')
    try {
      return await run()
    } catch (error) {
      throw classifyAwsError(operation, error)
    }
  }
}
