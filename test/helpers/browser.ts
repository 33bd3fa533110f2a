// Debian's chromium driven by playwright-core: nothing here downloads a browser. A missing chromium
// fails the test with the command that installs it (tests never skip).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium } from 'playwright-core'

export const chromiumPath = '/usr/bin/chromium'

/** Flags for a quiet, isolated headless chromium: no GPU, no sandbox (root in CI), no network of its own. */
const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A fresh chromium (its own new profile folder, removed by `close()`). */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `the dashboard tests need Debian's chromium at ${chromiumPath}: install it with 'apt-get install -y chromium' (.ci/run does so in CI)`,
    )
  }
  const profile = mkdtempSync(join(tmpdir(), 'kdp-chromium-'))
  // launchPersistentContext is how playwright takes a --user-data-dir of our own.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args,
    viewport: { width: 1280, height: 1000 },
  })
  return {
    context,
    close: async () => {
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
