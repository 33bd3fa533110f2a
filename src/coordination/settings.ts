import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import * as t from 'io-ts'
import type { KafkaSecurity } from '../kafka/connection.js'
import { decodeOrThrow, ValidationError } from '../util/decode.js'
import type { Logger } from '../util/logging.js'

interface IntAtLeastBrand {
  readonly IntAtLeast: unique symbol
}
const intAtLeast = (min: number) =>
  t.brand(
    t.number,
    (n): n is t.Branded<number, IntAtLeastBrand> => Number.isInteger(n) && n >= min,
    'IntAtLeast',
  )
const positiveInt = intAtLeast(1)
const millis = intAtLeast(0)
const nonEmptyString = t.refinement(t.string, (s) => s.trim().length > 0, 'NonEmptyString')
const brokerAddress = t.refinement(t.string, (s) => /^[^\s:]+:\d{1,5}$/.test(s), 'host:port')

/** The data part of the settings, decoded at the boundary (see `DistributedProcessingSettings`). */
export const SettingsCodec = t.intersection([
  t.type({ brokers: t.refinement(t.array(brokerAddress), (a) => a.length > 0, 'NonEmptyArray<host:port>') }),
  t.partial({
    topic: nonEmptyString,
    partitions: positiveInt,
    replicationFactor: positiveInt,
    clientId: nonEmptyString,
    nodeId: nonEmptyString,
    sessionTimeoutMs: intAtLeast(1000),
    rebalanceTimeoutMs: intAtLeast(1000),
    heartbeatIntervalMs: intAtLeast(50),
    maxStopMs: intAtLeast(1),
    leaseMarginMs: millis,
  }),
])

/** Settings of a node. Only `brokers` is required. */
export interface DistributedProcessingSettings {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[]
  /** The technical topic; created with `partitions` partitions when missing. Default `kdp-processes`. */
  readonly topic?: string
  /** Partition count of the technical topic: the number of slices. Default 32. */
  readonly partitions?: number
  /** Replication factor when creating the technical topic. Default: min(3, number of brokers). */
  readonly replicationFactor?: number
  readonly clientId?: string
  /** This node's id in logs and placement. Default: `<hostname>-<pid>-<random>`. */
  readonly nodeId?: string
  /** Consumer-group session timeout. Default 10000 ms. */
  readonly sessionTimeoutMs?: number
  /**
   * Consumer-group rebalance timeout: how long the coordinator waits for members to rejoin, and how
   * long a join phase may keep members running (see the lease). Default 60000 ms (as Kafka Connect).
   */
  readonly rebalanceTimeoutMs?: number
  /** Heartbeat interval (also the idle fetch wait). Default 1000 ms. */
  readonly heartbeatIntervalMs?: number
  /** How long a process may take to settle after its signal is aborted. Default 3000 ms. */
  readonly maxStopMs?: number
  /** Safety margin subtracted from the lease and added to the handover delay. Default 1000 ms. */
  readonly leaseMarginMs?: number
  /** TLS, SASL and timeouts of every Kafka connection of this node. Never logged. */
  readonly kafka?: KafkaSecurity
  readonly logger?: Logger
}

/** Settings with every default filled in and the derived timings. */
export interface ResolvedSettings {
  readonly brokers: readonly string[]
  readonly topic: string
  readonly partitions: number
  readonly replicationFactor: number | undefined
  readonly clientId: string
  readonly nodeId: string
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly maxStopMs: number
  readonly leaseMarginMs: number
  /** How long a successful heartbeat keeps this node the owner of its slices. */
  readonly leaseMs: number
  /** How long after the group was last seen stable a rebalance may keep this node the owner. */
  readonly rebalanceLeaseMs: number
  /** A jump of the wall clock against the monotonic clock larger than this revokes the lease. */
  readonly clockJumpMs: number
  /** How long a node waits before starting a slice whose previous owner may still be stopping. */
  readonly handoverDelayMs: number
  readonly kafka: DistributedProcessingSettings['kafka']
}

/**
 * Decodes and checks settings; throws one ValidationError listing every bad field.
 *
 * The lease is `min(session, rebalance) − maxStop − margin`: a node that stops hearing from the
 * coordinator has stopped its slices (or exited) before the group can hand them to anyone else.
 */
export function resolveSettings(input: DistributedProcessingSettings): ResolvedSettings {
  const { kafka, logger: _logger, ...data } = input
  const s = decodeOrThrow(SettingsCodec, data, 'DistributedProcessing settings')
  const sessionTimeoutMs = s.sessionTimeoutMs ?? 10_000
  const rebalanceTimeoutMs = s.rebalanceTimeoutMs ?? Math.max(60_000, sessionTimeoutMs)
  const heartbeatIntervalMs = s.heartbeatIntervalMs ?? Math.min(1000, Math.floor(sessionTimeoutMs / 6))
  const maxStopMs = s.maxStopMs ?? 3000
  const leaseMarginMs = s.leaseMarginMs ?? 1000
  const leaseMs = Math.min(sessionTimeoutMs, rebalanceTimeoutMs) - maxStopMs - leaseMarginMs
  const problems = []
  if (heartbeatIntervalMs * 3 > sessionTimeoutMs) {
    problems.push({
      path: 'heartbeatIntervalMs',
      message: `must be at most a third of sessionTimeoutMs (${sessionTimeoutMs})`,
    })
  }
  if (leaseMs < 2 * heartbeatIntervalMs) {
    problems.push({
      path: 'maxStopMs',
      message: `min(sessionTimeoutMs, rebalanceTimeoutMs) − maxStopMs − leaseMarginMs = ${leaseMs} ms leaves no lease; it must be at least two heartbeat intervals (${2 * heartbeatIntervalMs} ms)`,
    })
  }
  if (problems.length > 0) throw new ValidationError('DistributedProcessing settings', problems)
  return {
    brokers: s.brokers,
    topic: s.topic ?? 'kdp-processes',
    partitions: s.partitions ?? 32,
    replicationFactor: s.replicationFactor,
    clientId: s.clientId ?? 'kdp',
    nodeId: s.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    heartbeatIntervalMs,
    maxStopMs,
    leaseMarginMs,
    leaseMs,
    rebalanceLeaseMs: rebalanceTimeoutMs - maxStopMs - leaseMarginMs,
    // Half the margin: the other half still covers the delay between send and receipt.
    clockJumpMs: Math.max(100, leaseMarginMs / 2),
    handoverDelayMs: maxStopMs + leaseMarginMs,
    kafka,
  }
}
