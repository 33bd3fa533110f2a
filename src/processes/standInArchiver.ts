import { sleep } from '../sleep.js'
import type { ArchiverFactory } from './archiverSet.js'

/** An archiver that only reports what it was given and waits: for clusters without a sink yet. */
export const standInArchiver: ArchiverFactory = (config, sink, index) => async (ctx) => {
  ctx.logger.info('archiver (stand-in) running', {
    topic: config.topic,
    sink: sink.id,
    index,
    revision: config.revision,
  })
  while (!ctx.signal.aborted) await sleep(60_000, ctx.signal)
}
