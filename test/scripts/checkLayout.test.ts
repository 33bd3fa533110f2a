import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { checkLayout } from '../../scripts/checkLayout.js'
import { repoRoot } from '../../services/process.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kdp-layout-'))
  dirs.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

describe('the layout rule (npm run lint)', () => {
  it('holds for the project itself', () => {
    expect(checkLayout(repoRoot)).toEqual([])
  })

  it('fires on every form of a forbidden import', () => {
    const root = fixture({
      'src/coordination/a.ts': "import { x } from '../processes/master.js'\n",
      'src/coordination/b.ts': "\n\nexport type { Y } from '../http/server.js'\n",
      'src/kafka/c.ts': "const m = await import('../sinks/s3Sink.js')\n",
      'src/util/d.ts': "import type { Z } from '../coordination/lease.js'\n",
      'src/processes/e.ts': "import { Kafka } from 'kafkajs'\n",
      'src/http/f.ts':
        "const q = createRequire(import.meta.url)\nq('x'); require('kafkajs/src/network/requestQueue/index.js')\n",
      'scripts/g.ts': "import type { Admin } from 'kafkajs'\n",
    })
    const found = checkLayout(root).map((v) => `${v.file}:${v.line} ${v.rule}`)
    expect(found.sort()).toEqual(
      [
        'scripts/g.ts:1 only src/kafka imports kafkajs',
        'src/coordination/a.ts:1 src/coordination must not import the archive app (src/processes)',
        'src/coordination/b.ts:3 src/coordination must not import the archive app (src/http)',
        'src/http/f.ts:2 only src/kafka imports kafkajs',
        'src/kafka/c.ts:1 src/kafka must not import the archive app (src/sinks)',
        'src/processes/e.ts:1 only src/kafka imports kafkajs',
        'src/util/d.ts:1 src/util imports no other folder of src (found src/coordination)',
      ].sort(),
    )
  })

  it('allows what the layout allows', () => {
    const root = fixture({
      'src/kafka/a.ts':
        "import { Kafka } from 'kafkajs'\nimport type { L } from '../coordination/lease.js'\n",
      'src/coordination/b.ts':
        "import { connectKafka } from '../kafka/index.js'\nimport { sleep } from '../util/sleep.js'\n",
      'src/processes/c.ts':
        "import { DistributedProcessing } from '../coordination/distributedProcessing.js'\n",
      'src/index.ts': "export * from './coordination/b.js'\n",
    })
    expect(checkLayout(root)).toEqual([])
  })
})
