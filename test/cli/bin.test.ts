// The real commands as child processes: `node --import tsx src/cli/main.ts` and `src/loadgen/main.ts`.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, describe, expect, inject, it } from 'vitest'
import {
  loadgenScript as loadgen,
  archiverScript as main,
  ownLines,
  runToExit,
  start,
  waitFor,
} from '../helpers/commands.js'
import { uniqueName } from '../helpers/names.js'

const brokers = inject('kafkaBrokers')
const dirs: string[] = []

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdp-cli-test-'))
  dirs.push(dir)
  return dir
}

function admin() {
  return new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin()
}

describe('kdp-archiver, the command', () => {
  it('exits 2 on bad flags with the message on stderr, and starts nothing', async () => {
    const cluster = uniqueName('cli-bad')
    const cases: Array<{ args: string[]; env?: Record<string, string>; says: string }> = [
      {
        args: ['--brokers', brokers, '--sink', 'file:///tmp/x', '--cluster', cluster, '--http-port', 'abc'],
        says: 'kdp-archiver: invalid --http-port: expected a whole number, got "abc"',
      },
      {
        args: ['--brokers', brokers, '--sink', 'file:///tmp/x', '--cluster', cluster, '--bogus'],
        says: "kdp-archiver: unknown option '--bogus'",
      },
      {
        args: ['--sink', 'file:///tmp/x', '--cluster', cluster],
        env: { KDP_BROKERS: brokers, KDP_INCLUDE: 'orders-(' },
        says: 'kdp-archiver: invalid --include (from KDP_INCLUDE): invalid regular expression',
      },
      {
        args: ['--brokers', brokers, '--sink', 'ftp://host/dir', '--cluster', cluster],
        says: "kdp-archiver: invalid --sink: unsupported sink scheme 'ftp://'",
      },
      {
        args: ['--cluster', cluster],
        says: 'kdp-archiver: missing --brokers (or KDP_BROKERS, or kafka.brokers in the config file)',
      },
    ]
    for (const { args, env, says } of cases) {
      const result = await runToExit(main, args, env)
      expect(result.code, result.stderr).toBe(2)
      expect(result.stderr).toContain(says)
      expect(result.stderr).toContain("Run 'kdp-archiver --help' for usage.")
      expect(result.stdout).toBe('')
    }
    const kafka = admin()
    await kafka.connect()
    try {
      expect((await kafka.listTopics()).filter((t) => t.startsWith(cluster))).toEqual([])
    } finally {
      await kafka.disconnect()
    }
  })

  it('prints its help and version and exits 0', async () => {
    const help = await runToExit(main, ['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: kdp-archiver --brokers <host:port,...> --sink <url> [options]')
    expect(help.stdout).toContain('KDP_TOKEN')
    const version = await runToExit(main, ['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^kdp-archiver \d+\.\d+\.\d+\n$/)
  })

  it('exits 1 with one line when the brokers cannot be reached', async () => {
    const result = await runToExit(main, ['--brokers', '127.0.0.1:1', '--sink', `file://${tempDir()}`])
    expect(result.code).toBe(1)
    expect(ownLines(result.stderr)).toEqual([
      expect.stringMatching(/^kdp-archiver: cannot reach the Kafka brokers 127\.0\.0\.1:1: .*ECONNREFUSED/),
    ])
    expect(result.ms).toBeLessThan(30_000)
  })

  it('exits 1 with one line when the sink cannot be used', async () => {
    const file = join(tempDir(), 'a-file')
    writeFileSync(file, 'not a directory')
    const local = await runToExit(main, ['--brokers', brokers, '--sink', `file://${file}/archive`])
    expect(local.code).toBe(1)
    expect(ownLines(local.stderr)).toEqual([
      expect.stringMatching(/^kdp-archiver: the sink directory .*a-file\/archive is not writable: .*ENOTDIR/),
    ])

    const s3 = await runToExit(
      main,
      ['--brokers', brokers, '--sink', `s3://${uniqueName('no-such-bucket')}/x`],
      {
        KDP_S3_ENDPOINT: inject('motoEndpoint'),
        KDP_S3_FORCE_PATH_STYLE: 'true',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
    )
    expect(s3.code).toBe(1)
    expect(ownLines(s3.stderr)).toEqual([
      expect.stringMatching(/^kdp-archiver: the sink s3:\/\/.* is not usable: .*NoSuchBucket/),
    ])
  })

  it('runs a node against the real broker, answers /health, and stops on SIGTERM with exit 0', async () => {
    const token = `tok-${randomBytes(12).toString('hex')}`
    const cluster = uniqueName('cli')
    const nodeId = uniqueName('cli-node')
    const dir = tempDir()
    const run = start(main, [
      '--brokers',
      brokers,
      '--sink',
      `file://${dir}`,
      '--http-port',
      '0',
      '--cluster',
      cluster,
      '--node-id',
      nodeId,
      '--token',
      token,
      '--include',
      `${cluster}-.*`,
      // Everything the node logs, so that a leaked token would show.
      '--log-level',
      'debug',
    ])
    try {
      const [line, address] = await waitFor(
        run,
        /^kdp-archiver: node \S+ running; HTTP API at (http:\/\/\S+) .*$/m,
        90_000,
      )
      expect(line).toContain(`node ${nodeId} running`)
      expect(line).toContain(`sink file://${dir}`)
      expect(line).toContain('writes need the token')

      const health = await fetch(`${address}/health`)
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: 'ok', nodeId })

      // The token is accepted (a 404 for an unknown topic, past the guard) and a wrong one is not.
      const topic = `${cluster}-none`
      const authorized = await fetch(`${address}/topics/${topic}/pause`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
      expect(authorized.status).toBe(404)
      const refused = await fetch(`${address}/topics/${topic}/pause`, {
        method: 'POST',
        headers: { authorization: 'Bearer wrong' },
      })
      expect([401, 403]).toContain(refused.status)
    } finally {
      run.child.kill('SIGTERM')
    }
    const exit = await run.exit
    expect(exit, run.stderr.slice(-3000)).toEqual({ code: 0, signal: null })
    expect(run.stdout).toContain(`node ${nodeId} stopped.`)
    expect(run.stdout).not.toContain(token)
    expect(run.stderr).not.toContain(token)
    expect(run.stderr.length).toBeGreaterThan(0)
  })
})

describe('kdp-loadgen, the command', () => {
  it('produces exactly --count records to a topic it creates', async () => {
    const topic = uniqueName('loadgen')
    const result = await runToExit(loadgen, [
      '--brokers',
      brokers,
      '--topic',
      topic,
      '--partitions',
      '3',
      '--count',
      '1500',
      '--rate',
      '0',
      '--size',
      '512',
      '--keys',
      '20',
      '--seed',
      '5',
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`producing fake tweets to ${topic} (3 partitions, created)`)
    expect(result.stdout).toContain('sent 1,500 records (768,000 bytes)')
    const kafka = admin()
    await kafka.connect()
    try {
      const offsets = await kafka.fetchTopicOffsets(topic)
      expect(offsets).toHaveLength(3)
      expect(offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0)).toBe(1500)
    } finally {
      await kafka.disconnect()
    }
  })

  it('keeps to the rate', async () => {
    const topic = uniqueName('loadgen-rate')
    const result = await runToExit(loadgen, [
      '--brokers',
      brokers,
      '--topic',
      topic,
      '--rate',
      '200',
      '--duration',
      '3s',
    ])
    expect(result.code, result.stderr).toBe(0)
    const sent = Number(/sent ([\d,]+) records/.exec(result.stdout)?.[1]?.replace(/,/g, ''))
    expect(sent).toBeGreaterThanOrEqual(500)
    expect(sent).toBeLessThanOrEqual(610)
  })

  it('exits 2 on bad flags', async () => {
    const result = await runToExit(loadgen, ['--brokers', brokers, '--rate', 'fast'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('kdp-loadgen: invalid --rate: expected a whole number, got "fast"')
    expect(result.stdout).toBe('')
  })
})
