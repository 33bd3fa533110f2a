// kafkajs 2.2.4 cannot assign a partition by hand (no `consumer.assign()`). A shard therefore joins
// a consumer group of its own, and this assigner, run by the group leader, hands that one partition
// of every subscribed topic to one member: the instance with the newest fencing token. Normally the
// group has exactly that one member; a stale instance (a frozen node that came back, or one still
// leaving) gets nothing, so it cannot even read the partition.
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import {
  AssignerProtocol,
  type GroupMember,
  type GroupMemberAssignment,
  type PartitionAssigner,
} from 'kafkajs'

const ClaimCodec = t.type({ token: t.number, instance: t.number })

/** What each member says in its JoinGroup metadata: who it is, by age. */
export type ShardClaim = t.TypeOf<typeof ClaimCodec>

/** The protocol name every member of a shard's groups must announce. */
export const shardAssignerName = 'kdp-chat-shard'

function claimOf(member: GroupMember): ShardClaim | undefined {
  try {
    const { userData } = AssignerProtocol.MemberMetadata.decode(member.memberMetadata) ?? {}
    if (!userData || userData.length === 0) return undefined
    const claim = ClaimCodec.decode(JSON.parse(userData.toString('utf8')))
    return isLeft(claim) ? undefined : claim.right
  } catch {
    return undefined
  }
}

/** The member that gets the partition: highest fencing token, then newest instance, then memberId. */
export function chooseOwner(
  members: readonly { memberId: string; claim: ShardClaim | undefined }[],
): string | undefined {
  let best: { memberId: string; claim: ShardClaim } | undefined
  for (const { memberId, claim } of members) {
    if (!claim) continue
    if (
      !best ||
      claim.token > best.claim.token ||
      (claim.token === best.claim.token && claim.instance > best.claim.instance) ||
      (claim.token === best.claim.token && claim.instance === best.claim.instance && memberId < best.memberId)
    ) {
      best = { memberId, claim }
    }
  }
  return best?.memberId
}

/**
 * An assigner that gives `partition` of each subscribed topic to the member with the newest claim,
 * and nothing to anyone else. Every member of the group must use it (same name and version).
 */
export function shardAssigner(partition: number, claim: ShardClaim): PartitionAssigner {
  return ({ cluster }) => ({
    name: shardAssignerName,
    version: 1,
    protocol({ topics }) {
      return {
        name: shardAssignerName,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.from(JSON.stringify(claim)),
        }),
      }
    },
    async assign({ members, topics }): Promise<GroupMemberAssignment[]> {
      const owner = chooseOwner(members.map((m) => ({ memberId: m.memberId, claim: claimOf(m) })))
      const mine: Record<string, number[]> = {}
      for (const topic of topics) {
        const exists = cluster.findTopicPartitionMetadata(topic).some((p) => p.partitionId === partition)
        if (exists) mine[topic] = [partition]
      }
      return members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: memberId === owner ? mine : {},
          userData: Buffer.alloc(0),
        }),
      }))
    },
  })
}
