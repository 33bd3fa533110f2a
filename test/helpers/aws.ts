import { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import { S3Client } from '@aws-sdk/client-s3'
import { inject } from 'vitest'

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
