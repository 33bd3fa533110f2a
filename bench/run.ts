// `npm run bench -- <suite> [args]`: runs one benchmark suite (each is also an npm script of its own).
import { spawnSync } from 'node:child_process'

const suites: Readonly<Record<string, string>> = {
  coordination: 'bench/coordination/run.ts',
  state: 'bench/state/reconfigure.ts',
  archiver: 'bench/archiver/run.ts',
  chat: 'bench/chat/run.ts',
  dashboard: 'bench/dashboard/idle.ts',
  scaler: 'bench/scaler/run.ts',
  services: 'bench/services/brokerStart.ts',
}

const [suite, ...args] = process.argv.slice(2)
const script = suite === undefined ? undefined : suites[suite]
if (script === undefined) {
  process.stderr.write(
    `usage: npm run bench -- <${Object.keys(suites).join('|')}> [arguments of the suite]\n`,
  )
  process.exit(2)
}
const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit' })
process.exit(run.status ?? 1)
