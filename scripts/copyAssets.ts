// `npm run build` runs this after tsc: the dashboard's page files (plain HTML, CSS and JavaScript,
// served as they are) go next to the compiled server code, where it looks for them.
import { cpSync, existsSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const from = join(root, 'src', 'http', 'dashboard')
const to = join(root, 'dist', 'src', 'http', 'dashboard')
if (!existsSync(join(root, 'dist', 'src', 'http'))) {
  console.error('copyAssets: dist/src/http does not exist; run tsc first (npm run build)')
  process.exit(1)
}
cpSync(from, to, { recursive: true })
console.log(`copyAssets: ${readdirSync(to).length} dashboard files in dist/src/http/dashboard`)
