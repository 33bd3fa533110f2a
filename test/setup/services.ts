import type { TestProject } from 'vitest/node'
import { ensureServicesInstalled } from '../../services/install.js'
import { startKafka } from '../../services/kafka.js'
import { startMoto } from '../../services/moto.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap list of the suite's single real broker. */
    kafkaBrokers: string
    /** Endpoint of the suite's moto server (S3, Auto Scaling, EC2). */
    motoEndpoint: string
  }
}

/** Starts one real broker and moto for the whole run; a missing service fails the run loudly. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensureServicesInstalled()
  const [kafka, moto] = await Promise.all([startKafka(), startMoto()])
  project.provide('kafkaBrokers', kafka.bootstrap)
  project.provide('motoEndpoint', moto.endpoint)
  return async () => {
    await Promise.all([kafka.stop(), moto.stop()])
  }
}
