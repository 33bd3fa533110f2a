// `npm run lint` runs this: the layout's import rules, which the compiler cannot see.
//   1. The reusable core (src/coordination), the Kafka folder (src/kafka) and src/util never import
//      the archive app (src/processes, src/sinks, src/http, src/cli, src/loadgen).
//   2. src/util imports no other folder of src.
//   3. Only src/kafka imports kafkajs (in src and scripts; tests and benches may use it as a peer).
// Every import form counts: static, `import type`, `export … from`, dynamic `import()` and `require()`.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

export interface Violation {
  readonly file: string
  readonly line: number
  readonly specifier: string
  readonly rule: string
}

const appFolders = ['processes', 'sinks', 'http', 'cli', 'loadgen']
const coreFolders = ['coordination', 'kafka', 'util']

function sourceFiles(dir: string): string[] {
  let entries: import('node:fs').Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path)
    return /\.(ts|mts|cts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/** Every module specifier a file imports, with its line. */
function importsOf(text: string): Array<{ specifier: string; line: number }> {
  const info = ts.preProcessFile(text, true, true)
  const found = info.importedFiles.map((f) => ({ specifier: f.fileName, pos: f.pos }))
  // createRequire(...)('x') and similar are not seen by preProcessFile.
  for (const match of text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g))
    found.push({ specifier: match[1] ?? '', pos: match.index ?? 0 })
  const unique = new Map<string, { specifier: string; line: number }>()
  for (const { specifier, pos } of found) {
    const line = text.slice(0, pos).split('\n').length
    unique.set(`${line}:${specifier}`, { specifier, line })
  }
  return [...unique.values()]
}

/** The first folder under src/ of a path (undefined outside src). */
function srcFolder(root: string, path: string): string | undefined {
  const rel = relative(join(root, 'src'), path)
  if (rel.startsWith('..') || rel === '') return undefined
  const [first, second] = rel.split(sep)
  return second === undefined ? '(root)' : first
}

/** Checks the files under `root`'s src/ and scripts/ folders. */
export function checkLayout(root: string): Violation[] {
  const violations: Violation[] = []
  const files = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'scripts'))]
  for (const file of files) {
    const from = srcFolder(root, file)
    const text = readFileSync(file, 'utf8')
    for (const { specifier, line } of importsOf(text)) {
      const report = (rule: string) => violations.push({ file: relative(root, file), line, specifier, rule })
      if ((specifier === 'kafkajs' || specifier.startsWith('kafkajs/')) && from !== 'kafka') {
        report('only src/kafka imports kafkajs')
        continue
      }
      if (!specifier.startsWith('.') || from === undefined) continue
      const to = srcFolder(root, resolve(dirname(file), specifier))
      if (to === undefined || to === from) continue
      if (coreFolders.includes(from) && appFolders.includes(to))
        report(`src/${from} must not import the archive app (src/${to})`)
      else if (from === 'util') report(`src/util imports no other folder of src (found src/${to})`)
    }
  }
  return violations
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const violations = checkLayout(root)
  for (const v of violations) console.error(`${v.file}:${v.line}: '${v.specifier}': ${v.rule}`)
  if (violations.length > 0) {
    console.error(`layout: ${violations.length} forbidden import(s); see scripts/checkLayout.ts`)
    process.exit(1)
  }
  console.log('layout: imports follow the rules')
}
