import { describe, expect, it } from 'vitest'
import { AwsCallError, classifyAwsError } from '../../../src/processes/scaler/autoScaling.js'

/** An error shaped as the AWS SDK throws it (name, and the HTTP status in $metadata). */
function sdkError(name: string, message: string, status?: number): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } })
}

describe('AWS errors as the scaler sees them', () => {
  it.each([
    [sdkError('Throttling', 'Rate exceeded', 400), 'throttled'],
    [sdkError('SomethingElse', 'slow down', 429), 'throttled'],
    [
      sdkError('AccessDenied', 'User is not authorized to perform autoscaling:SetDesiredCapacity', 403),
      'access-denied',
    ],
    [sdkError('ExpiredToken', 'The security token included in the request is expired', 400), 'access-denied'],
    [sdkError('ValidationError', 'AutoScalingGroup name not found - null', 400), 'group-not-found'],
    [sdkError('ValidationError', 'DesiredCapacity is above MaxSize', 400), 'invalid-request'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'unreachable'],
    [sdkError('TimeoutError', 'Connection timed out after 5000 ms'), 'unreachable'],
    [sdkError('InternalFailure', 'We encountered an internal error', 500), 'aws-error'],
  ])('%s is %s', (error, code) => {
    const classified = classifyAwsError('SetDesiredCapacity', error)
    expect(classified).toBeInstanceOf(AwsCallError)
    expect(classified.code).toBe(code)
    expect(classified.operation).toBe('SetDesiredCapacity')
    expect(classified.message).toContain(`SetDesiredCapacity: ${code}`)
  })

  it('keeps an error it classified already', () => {
    const once = new AwsCallError('DescribeAutoScalingGroups', 'group-not-found', 'no group g')
    expect(classifyAwsError('other', once)).toBe(once)
  })
})
