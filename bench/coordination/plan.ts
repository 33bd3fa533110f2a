// The leader's assignment at scale: 1,000 members and up to 100,000 partitions (each partition a
// slice of the process list: 100,000 processes over 10,000 partitions is 10 per slice). Measures the
// CPU time of planAssignment plus the encoding of every member's notes, and the largest member
// report and notes topic name against kafkajs's int16 limit for names (32,767).
//
//   npx tsx bench/coordination/plan.ts [--reps 5]
//
// Writes bench/results/coordination-plan.json; docs/benchmarks.md quotes it.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../../services/process.js'
import { type PlanMember, planAssignment } from '../../src/coordination/assignmentPlan.js'
import { encodeReport, type MemberReport, notesTopics } from '../../src/coordination/memberProtocol.js'

const repsArg = process.argv.indexOf('--reps')
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 5

function report(nodeId: string, partitions: number, live: number[], generation: number): MemberReport {
  return {
    v: 2,
    nodeId,
    role: 'worker',
    leaving: false,
    generation,
    claims: live,
    live,
    partitions,
    fingerprint: 'static:100000:0123456789abcdef',
    handoverMs: 4000,
    epoch: 7,
  }
}

/** A balanced group of `members` running `partitions`, then one more member joining (what moves). */
function joinCase(members: number, partitions: number): PlanMember[] {
  const result: PlanMember[] = []
  for (let m = 0; m < members; m++) {
    const live: number[] = []
    for (let p = m; p < partitions; p += members) live.push(p)
    result.push({
      memberId: `member-${String(m).padStart(4, '0')}`,
      report: report(`node-${m}`, partitions, live, 41),
    })
  }
  result.push({ memberId: 'member-new', report: report('node-new', partitions, [], -1) })
  return result
}

/** The same group where one member left: its partitions are handed out (no one runs them). */
function leaveCase(members: number, partitions: number): PlanMember[] {
  return joinCase(members, partitions).slice(1, members)
}

function cpuMs(work: () => void): number {
  const before = process.cpuUsage()
  work()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const results: Array<Record<string, number | string>> = []
for (const [members, partitions] of [
  [1000, 1000],
  [1000, 10_000],
  [1000, 100_000],
] as const) {
  for (const [name, make] of [
    ['join', joinCase],
    ['leave', leaveCase],
  ] as const) {
    const input = make(members, partitions)
    let largestNotes = 0
    let notesTopicsMax = 0
    const times: number[] = []
    for (let r = 0; r < reps; r++) {
      times.push(
        cpuMs(() => {
          const plan = planAssignment(partitions, input)
          for (const a of plan.assignments) {
            const topics = notesTopics({
              v: 2,
              cleanAt: a.cleanAt,
              heldBack: [...a.heldBack],
              epoch: 7,
              handoverMs: plan.handoverMs,
              mismatch: a.mismatch,
            })
            notesTopicsMax = Math.max(notesTopicsMax, topics.length)
            for (const t of topics) largestNotes = Math.max(largestNotes, t.length)
          }
        }),
      )
    }
    let largestReport = 0
    for (const m of input)
      if (m.report) largestReport = Math.max(largestReport, encodeReport(m.report).length)
    const row = {
      case: name,
      members: input.length,
      partitions,
      processes: partitions * 10,
      cpuMsMedian: Math.round(median(times) * 10) / 10,
      cpuMsMax: Math.round(Math.max(...times) * 10) / 10,
      largestReportBytes: largestReport,
      largestNotesTopicChars: largestNotes,
      notesTopicsPerMember: notesTopicsMax,
    }
    results.push(row)
    console.log(JSON.stringify(row))
  }
}
writeFileSync(
  join(repoRoot, 'bench', 'results', 'coordination-plan.json'),
  `${JSON.stringify({ at: new Date().toISOString(), node: process.version, reps, results }, null, 2)}\n`,
)
