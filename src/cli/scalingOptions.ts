// The Auto Scaling settings of `kdp-archiver`: the group its scaler acts on (any node may become the
// scaler, so every node of an Auto Scaling deployment gets it) and the node's own EC2 instance id.
// Credentials come from the AWS SDK's default chain (instance role), the region from AWS_REGION.
import { isInstanceId } from '../processes/scaler/instanceId.js'
import { endpointUrl } from '../sinks/s3SinkOptions.js'
import type { FlagSpec } from './layers.js'
import { fromText, optional } from './values.js'

export const scalingFlags: readonly FlagSpec[] = [
  {
    name: 'autoscaling-group',
    file: 'autoscaling.group',
    env: 'KDP_AUTOSCALING_GROUP',
    kind: 'string',
    placeholder: '<name>',
    defaultText: 'none (recommend only)',
    description:
      'The AWS Auto Scaling group of the nodes. The scaler (one node at a time) raises its desired capacity when the lag grows and drains then terminates one node when it is calm. Region: AWS_REGION.',
  },
  {
    name: 'instance-id',
    file: 'instanceId',
    env: 'KDP_INSTANCE_ID',
    kind: 'string',
    placeholder: '<i-…|imds>',
    defaultText: 'imds if a group is set',
    description:
      "This node's EC2 instance id, which the scaler terminates after draining it; 'imds' asks the instance metadata service (IMDSv2; AWS_EC2_METADATA_SERVICE_ENDPOINT overrides its address).",
  },
  {
    name: 'autoscaling-endpoint',
    cli: false,
    file: 'autoscaling.endpoint',
    env: 'KDP_AUTOSCALING_ENDPOINT',
    kind: 'string',
    description: 'Endpoint of the Auto Scaling API (a VPC endpoint, or moto in tests).',
  },
]

export const scalingCodecs = {
  'autoscaling-group': optional(
    fromText<string>('AutoScalingGroupName', (s) =>
      /^[\x20-\x7e]{1,255}$/.test(s.trim()) && s.trim() !== ''
        ? { ok: s.trim() }
        : { reason: 'expected 1-255 printable characters' },
    ),
  ),
  'instance-id': optional(
    fromText<string>('InstanceId', (s) =>
      s.trim() === 'imds' || isInstanceId(s.trim())
        ? { ok: s.trim() }
        : { reason: "expected an EC2 instance id (i-0123456789abcdef0) or 'imds'" },
    ),
  ),
  'autoscaling-endpoint': optional(
    fromText<string>('Endpoint', (s) =>
      endpointUrl.is(s.trim()) ? { ok: s.trim() } : { reason: 'expected an http(s)://host[:port] URL' },
    ),
  ),
}

/** The node's Auto Scaling settings, as `kdp-archiver` passes them on. */
export interface ScalingCliSettings {
  /** The group and the endpoint override; undefined: recommend only. */
  readonly autoscaling: { readonly group: string; readonly endpoint?: string } | undefined
  /** An instance id, `imds` (ask IMDSv2 at startup), or undefined (none). */
  readonly instanceId: string | undefined
}

export function scalingSettings(v: {
  readonly 'autoscaling-group': string | undefined
  readonly 'instance-id': string | undefined
  readonly 'autoscaling-endpoint': string | undefined
}): ScalingCliSettings {
  const group = v['autoscaling-group']
  return {
    autoscaling:
      group === undefined
        ? undefined
        : { group, ...(v['autoscaling-endpoint'] !== undefined && { endpoint: v['autoscaling-endpoint'] }) },
    instanceId: v['instance-id'] ?? (group === undefined ? undefined : 'imds'),
  }
}
