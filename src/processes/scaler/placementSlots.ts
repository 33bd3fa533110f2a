import type { SlotSource } from '../archiverSet.js'
import type { CommandsStore } from './commands.js'

/** The scaler's placements as the archiver set reads them: the slots of each `auto` topic × sink. */
export function placementSlots(commands: CommandsStore): SlotSource {
  return {
    slotsOf: (topic, sinkId) => commands.placementOf(topic)?.slots[sinkId],
    subscribe: (listener) =>
      commands.subscribe((change) => {
        if (change.kind === 'placement') listener()
      }),
  }
}
