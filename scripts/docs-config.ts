// `npm run docs:config`: rewrites the README's topic-config table from the codec
// (src/processes/state/topicConfig.ts). `--check` writes nothing and fails if the README is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../services/process.js'
import { withConfigTable } from './configTable.js'

const path = join(repoRoot, 'README.md')
const readme = readFileSync(path, 'utf8')
const updated = withConfigTable(readme)
if (updated === readme) {
  console.log('README.md: the topic-config table is up to date')
} else if (process.argv.includes('--check')) {
  console.error('README.md: the topic-config table is stale; run `npm run docs:config`')
  process.exitCode = 1
} else {
  writeFileSync(path, updated)
  console.log('README.md: topic-config table written')
}
