/**
 * What the scaler and the draining nodes write to the events topic: every decision with its reason,
 * every action on AWS, and the warnings operators must see.
 */
export type ScalerEvent =
  /** A decision that changes the cluster's size (holds are not events: the latest is in `GET /scaling`). */
  | { type: 'scaling-decision'; action: 'out' | 'in'; from: number; to: number; reason: string }
  /** Falling behind with nothing the scaler can do (at max, or no more parallelism to use). */
  | { type: 'scaling-warning'; reason: string }
  /** The group's desired capacity was set (scale-out). */
  | { type: 'capacity-set'; desired: number; group: string }
  | { type: 'drain-requested'; target: string; requestId: string; instanceId: string | null; reason: string }
  | { type: 'drain-cancelled'; target: string; requestId: string; reason: string }
  /** Sent by the drained node itself, once its archivers are handed over. */
  | {
      type: 'node-drained'
      target: string
      requestId: string
      /** Records the next owners read again; `uncutRecords` of them were in files not cut yet. */
      reReadRecords: number
      uncutRecords: number
      tookMs: number
    }
  | { type: 'instance-terminated'; target: string; instanceId: string; group: string }
  /** A scale-in that ended an instance from which no node joined within joinTimeoutMs (no drain needed). */
  | { type: 'unjoined-instance-terminated'; instanceId: string; group: string; joinTimeoutMs: number }
  | { type: 'instances-protected'; instanceIds: string[]; group: string }
  /** An AWS call failed: what, why, and how long the scaler waits before its next call. */
  | { type: 'scaling-error'; operation: string; code: string; error: string; retryInMs: number }
  | { type: 'parallelism-changed'; topic: string; from: number; to: number; reason: string }
  | { type: 'archiver-moved'; topic: string; sink: string; fromSlot: number; toSlot: number; reason: string }
  | { type: 'scaler-started'; fencingToken: number; actsOnAws: boolean }
  | { type: 'scaler-config-changed'; revision: number }
