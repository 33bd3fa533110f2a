// Reads Parquet files back with DuckDB (from PyPI, in the project's venv: services/moto/requirements.txt),
// a real reader that is not ours. Missing DuckDB is a failure that says what to run, never a skip.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { cacheDir } from '../../services/process.js'

const run = promisify(execFile)

export const venvPython = join(cacheDir, 'venv', 'bin', 'python')

// Runs each query (with `?` bound to the list of files) and prints every result as JSON: rows as
// lists, values made JSON-friendly (timestamps in ISO form, other non-JSON values as their text).
const script = `
import json, sys
try:
    import duckdb
except ImportError as error:
    sys.stderr.write("duckdb is not installed in .cache/venv (" + str(error) + "): run 'npm run services:install'\\n")
    sys.exit(3)
request = json.load(sys.stdin)
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
out = []
for query in request["queries"]:
    rows = con.execute(query.replace("FILES", "read_parquet($files, union_by_name = true)"), {"files": request["files"]}).fetchall()
    out.append([[v.isoformat() if hasattr(v, "isoformat") else v if isinstance(v, (int, float, str, bool, type(None))) else str(v) for v in row] for row in rows])
print(json.dumps({"version": duckdb.__version__, "results": out}))
`

export type DuckValue = string | number | boolean | null

/**
 * Runs `queries` in DuckDB over `files` (each query reads them as `FILES`: `read_parquet([...], union_by_name = true)`, as files with inferred columns need);
 * the rows of each. Throws with what to do when the venv or DuckDB is missing.
 */
export async function duckdbQuery(
  files: readonly string[],
  queries: readonly string[],
  python = venvPython,
): Promise<{ version: string; results: DuckValue[][][] }> {
  if (!existsSync(python))
    throw new Error(`no Python venv at ${python}: run 'npm run services:install' (it installs duckdb)`)
  const child = run(python, ['-c', script], { maxBuffer: 64 * 1024 * 1024 })
  child.child.stdin?.end(JSON.stringify({ files, queries }))
  try {
    const { stdout } = await child
    const parsed: { version: string; results: DuckValue[][][] } = JSON.parse(stdout)
    return parsed
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? ''
    throw new Error(`DuckDB could not read the Parquet files: ${stderr.trim() || String(error)}`)
  }
}
