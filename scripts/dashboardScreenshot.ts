// Writes a screenshot of a running dashboard (the README's docs/dashboard.png), with Debian's
// chromium: `npm run demo`, then `npx tsx scripts/dashboardScreenshot.ts <url> [out.png] [seconds]`.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const [url, out = 'docs/dashboard.png', seconds = '20'] = process.argv.slice(2)
if (url === undefined) {
  console.error('usage: tsx scripts/dashboardScreenshot.ts <dashboard url> [out.png] [seconds to wait]')
  process.exit(2)
}
const profile = mkdtempSync(join(tmpdir(), 'kdp-shot-'))
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  viewport: { width: 1280, height: 900 },
})
try {
  const page = await context.newPage()
  await page.goto(url)
  // Let the ticker fill in.
  await page.waitForTimeout(Number(seconds) * 1000)
  await page.screenshot({ path: out, fullPage: true })
  console.log(`wrote ${out}`)
} finally {
  await context.close()
  rmSync(profile, { recursive: true, force: true })
}
