import {
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling'
import { describe, expect, it } from 'vitest'
import { motoAutoScaling } from '../helpers/aws.js'
import { uniqueName } from '../helpers/names.js'

describe('Auto Scaling on moto', () => {
  it('changes a group’s desired capacity and reads it back', async () => {
    const client = motoAutoScaling()
    const LaunchConfigurationName = uniqueName('smoke-lc')
    const AutoScalingGroupName = uniqueName('smoke-asg')
    await client.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName,
        ImageId: 'ami-12345678',
        InstanceType: 't3.micro',
      }),
    )
    await client.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName,
        LaunchConfigurationName,
        MinSize: 1,
        MaxSize: 5,
        DesiredCapacity: 1,
        AvailabilityZones: ['us-east-1a'],
      }),
    )
    await client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName, DesiredCapacity: 3 }))
    const described = await client.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [AutoScalingGroupName] }),
    )
    const group = described.AutoScalingGroups?.[0]
    expect(group?.DesiredCapacity).toBe(3)
    expect(group?.Instances?.length).toBe(3)
    client.destroy()
  })
})
