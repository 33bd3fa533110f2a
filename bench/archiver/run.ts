// `npm run bench:archiver -- [throughput|memory] [arguments of that benchmark]`: the archiver
// benchmarks. Without a name, both run one after the other with their defaults (~6 minutes); each
// starts its own broker and stops it at the end.
import { spawnSync } from 'node:child_process'

const benchmarks: Readonly<Record<string, string>> = {
  throughput: 'bench/archiver/throughput.ts',
  memory: 'bench/archiver/memory.ts',
  peers: 'bench/archiver/peers.ts',
  failover: 'bench/archiver/failover.ts',
}

const [name, ...args] = process.argv.slice(2)
// `peers` needs Maven and Java peers, `failover` takes ~6 minutes: only on request.
const selected = name === undefined || name === 'all' ? ['throughput', 'memory'] : [name]
let status = 0
for (const benchmark of selected) {
  const script = benchmarks[benchmark]
  if (script === undefined) {
    process.stderr.write(
      `usage: npm run bench:archiver -- [${Object.keys(benchmarks).join('|')}] [arguments]\n`,
    )
    process.exit(2)
  }
  const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...(name === benchmark ? args : [])], {
    stdio: 'inherit',
  })
  status ||= run.status ?? 1
}
process.exit(status)
