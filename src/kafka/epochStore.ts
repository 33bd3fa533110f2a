import type { EpochStore } from '../coordination/groupMembership.js'
import type { RecordLog } from './types.js'

/**
 * Fencing epochs from a one-partition topic: a new epoch is the offset of a record appended to it
 * (plus one). Offsets of a partition only grow, whatever compaction or retention removes, so every
 * new epoch is larger than all before, for every group, and nothing has to be read back. The topic is
 * compacted by group, so it stays small.
 */
export class AppendedEpochStore implements EpochStore {
  constructor(
    private readonly log: Pick<RecordLog, 'produce'>,
    readonly topic: string,
  ) {}

  async next(group: string): Promise<number> {
    const { offset } = await this.log.produce(this.topic, {
      key: group,
      value: JSON.stringify({ group, at: new Date().toISOString() }),
    })
    if (!Number.isInteger(offset) || offset < 0)
      throw new Error(`no offset for the epoch record of '${group}'`)
    return offset + 1
  }
}
