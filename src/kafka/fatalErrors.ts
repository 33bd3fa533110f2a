/** Hints for the errors a user can fix, by Kafka error type. */
const hints: Readonly<Record<string, string>> = {
  INVALID_SESSION_TIMEOUT:
    "sessionTimeoutMs must lie between the broker's group.min.session.timeout.ms (6 s by default) and group.max.session.timeout.ms (30 min)",
  GROUP_AUTHORIZATION_FAILED:
    'the client is not allowed to use this consumer group (Kafka ACLs: Read on the group)',
  TOPIC_AUTHORIZATION_FAILED:
    'the client is not allowed to read the technical topic (Kafka ACLs: Describe and Read)',
  INCONSISTENT_GROUP_PROTOCOL:
    'another client with a different assignment protocol uses this group name (is a non-kdp consumer in it?)',
  GROUP_MAX_SIZE_REACHED: "the group has reached the broker's group.max.size",
  SASL_AUTHENTICATION_FAILED: 'the SASL credentials were refused',
}

/** The innermost cause of a kafkajs error (its retries wrap the original). */
function rootCause(error: unknown): unknown {
  let current = error
  for (let depth = 0; depth < 5; depth++) {
    const next =
      (current as { cause?: unknown; originalError?: unknown } | null)?.cause ??
      (current as { originalError?: unknown } | null)?.originalError
    if (next === undefined || next === null) break
    current = next
  }
  return current
}

/**
 * The error a membership fails with when kafkajs will not retry: names the group, the cause, and
 * what to change when the cause is one a user can fix.
 */
export function fatalMembershipError(groupId: string, error: unknown): Error {
  const cause = rootCause(error)
  const type = (cause as { type?: unknown } | null)?.type
  const message = cause instanceof Error ? cause.message : String(cause)
  const hint = typeof type === 'string' ? hints[type] : undefined
  return new Error(
    `consumer group '${groupId}' failed and will not be retried: ${message}${hint ? ` (${hint})` : ''}`,
    { cause: error },
  )
}
