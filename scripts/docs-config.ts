// `npm run docs:config`: rewrites the README's config tables from their codecs (the topic config,
// src/processes/state/topicConfig.ts; the scaler config, src/processes/scaler/config.ts). `--check`
// writes nothing and fails if the README is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../services/process.js'
import { withConfigTables } from './configTable.js'

const path = join(repoRoot, 'README.md')
const readme = readFileSync(path, 'utf8')
const updated = withConfigTables(readme)
if (updated === readme) {
  console.log('README.md: the config tables are up to date')
} else if (process.argv.includes('--check')) {
  console.error('README.md: the config tables are stale; run `npm run docs:config`')
  process.exitCode = 1
} else {
  writeFileSync(path, updated)
  console.log('README.md: config tables written')
}
