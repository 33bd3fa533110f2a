import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { assertKafkaInstalled } from './kafka.js'
import { assertMotoInstalled } from './moto.js'
import { repoRoot } from './process.js'

/**
 * Runs services/install.sh (idempotent: a no-op when the stamps match) so that `npm test` works on a
 * fresh clone; then checks the result, failing with the installer's own message if something is missing.
 */
export async function ensureServicesInstalled(): Promise<void> {
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'services', 'install.sh')], {
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    child.once('error', reject)
    child.once('exit', resolve)
  })
  if (code !== 0) {
    throw new Error(
      'kdp: the test services could not be installed (see the message above); the suite cannot run without them.',
    )
  }
  assertKafkaInstalled()
  assertMotoInstalled()
}
