import type { ProcessContext } from '../../coordination/process.js'
import type { BatchControl, ConsumedRecord } from '../../kafka/index.js'
import type { ArchiverDeps } from './archiver.js'

/**
 * What happens to a record that cannot be archived (not JSON, no time), by the topic's policy:
 * `dlq` writes it to the dead-letter topic (retrying until done), `skip` counts and logs it,
 * `fail` answers 'fail' and the archiver stops.
 */
export class BadRecords {
  constructor(
    private readonly deps: Pick<ArchiverDeps, 'config' | 'metrics' | 'deadLetters'>,
    private readonly ctx: ProcessContext,
    private readonly retry: (what: string, control: BatchControl, work: () => Promise<void>) => Promise<void>,
  ) {}

  async handle(
    partition: number,
    record: ConsumedRecord,
    reason: string,
    control: BatchControl,
  ): Promise<'handled' | 'fail'> {
    const { metrics, deadLetters, config: c } = this.deps
    metrics.badRecords++
    const where = { topic: c.topic, partition, offset: record.offset, reason }
    if (c.badRecordPolicy === 'skip') {
      this.ctx.logger.warn('bad record skipped', where)
      return 'handled'
    }
    if (c.badRecordPolicy === 'fail') {
      this.ctx.logger.error(
        'bad record: archiver stopped (policy "fail"); fix the data or the config to resume',
        where,
      )
      return 'fail'
    }
    const dlqTopic = c.dlqTopic ?? `${c.topic}.dlq`
    await this.retry('dead-letter write', control, () =>
      deadLetters.write(dlqTopic, { record, topic: c.topic, partition, reason }),
    )
    metrics.deadLettered++
    this.ctx.logger.info('bad record sent to the dead-letter topic', { ...where, dlqTopic })
    return 'handled'
  }
}
