import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling'
import { S3Client } from '@aws-sdk/client-s3'
import { inject } from 'vitest'
import { createMotoGroup } from '../../services/asgLauncher.js'

// moto accepts any credentials; these are fixed test values, not secrets.
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
const region = 'us-east-1'

/** An S3 client pointed at the suite's moto server. */
export function motoS3(): S3Client {
  return new S3Client({ endpoint: inject('motoEndpoint'), forcePathStyle: true, region, credentials })
}

/** An Auto Scaling client pointed at the suite's moto server. */
export function motoAutoScaling(): AutoScalingClient {
  return new AutoScalingClient({ endpoint: inject('motoEndpoint'), region, credentials })
}

/** The credentials and region of the moto clients above, for code that builds its own client. */
export const motoCredentials = { ...credentials }
export const motoRegion = region

/** An Auto Scaling group on moto with a launch template, its instances protected from scale-in. */
export function createAutoScalingGroup(
  client: AutoScalingClient,
  name: string,
  sizes: { min: number; max: number; desired: number },
): Promise<void> {
  return createMotoGroup(client, inject('motoEndpoint'), name, sizes, region)
}

/** The group's desired capacity and in-service instance ids. */
export async function describeGroup(
  client: AutoScalingClient,
  name: string,
): Promise<{
  desired: number
  min: number
  max: number
  inService: string[]
  instances: Array<{ id: string; protected: boolean }>
}> {
  const answer = await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))
  const group = answer.AutoScalingGroups?.[0]
  if (!group) throw new Error(`no group ${name}`)
  const instances = group.Instances ?? []
  return {
    desired: group.DesiredCapacity ?? 0,
    min: group.MinSize ?? 0,
    max: group.MaxSize ?? 0,
    inService: instances.filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId ?? ''),
    instances: instances.map((i) => ({ id: i.InstanceId ?? '', protected: i.ProtectedFromScaleIn === true })),
  }
}
