import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type ArchiverCliOptions, parseCli } from '../../src/cli/options.js'

const required = ['--brokers', 'localhost:9092', '--sink', 'file:///data/archive']
const cwd = '/home/me/work'

function run(argv: readonly string[], env: Record<string, string | undefined> = {}): ArchiverCliOptions {
  const result = parseCli(argv, env, cwd)
  if (result.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(result)}`)
  return result.options
}

function error(argv: readonly string[], env: Record<string, string | undefined> = {}): string {
  const result = parseCli(argv, env, cwd)
  if (result.kind !== 'error') throw new Error(`expected an error, got ${result.kind}`)
  return result.message
}

describe('kdp-archiver: Auto Scaling settings', () => {
  it('has none by default: the scaler only recommends, the node has no instance id', () => {
    expect(run(required).scaling).toEqual({
      autoscaling: undefined,
      instanceId: undefined,
      statusIntervalMs: undefined,
    })
  })

  it('asks IMDSv2 for the instance id when a group is set and no id is given', () => {
    expect(run([...required, '--autoscaling-group', 'kdp-nodes']).scaling).toEqual({
      autoscaling: { group: 'kdp-nodes' },
      instanceId: 'imds',
    })
  })

  it('reads the flags, their variables and the config file', () => {
    expect(
      run([...required, '--autoscaling-group', 'g1', '--instance-id', 'i-0123456789abcdef0'], {
        KDP_AUTOSCALING_ENDPOINT: 'http://127.0.0.1:5000',
      }).scaling,
    ).toEqual({
      autoscaling: { group: 'g1', endpoint: 'http://127.0.0.1:5000' },
      instanceId: 'i-0123456789abcdef0',
    })
    expect(
      run(required, { KDP_AUTOSCALING_GROUP: 'g2', KDP_INSTANCE_ID: 'i-abc' }).scaling.autoscaling,
    ).toEqual({
      group: 'g2',
    })
    const dir = mkdtempSync(join(tmpdir(), 'kdp-scaling-config-'))
    const file = join(dir, 'kdp.yaml')
    writeFileSync(
      file,
      'autoscaling:\n  group: g3\n  endpoint: https://autoscaling.eu-west-1.amazonaws.com\ninstanceId: imds\n',
    )
    expect(run([...required, '--config', file]).scaling).toEqual({
      autoscaling: { group: 'g3', endpoint: 'https://autoscaling.eu-west-1.amazonaws.com' },
      instanceId: 'imds',
    })
  })

  it.each([
    [
      ['--instance-id', 'host-1'],
      {},
      '--instance-id',
      "expected an EC2 instance id (i-0123456789abcdef0) or 'imds'",
    ],
    [['--autoscaling-group', ' '], {}, '--autoscaling-group', 'expected 1-255 printable characters'],
    [
      [],
      { KDP_AUTOSCALING_ENDPOINT: 'ftp://x' },
      'KDP_AUTOSCALING_ENDPOINT',
      'expected an http(s)://host[:port] URL',
    ],
  ])('rejects %j %j naming %s', (flags, env, name, reason) => {
    const message = error([...required, ...flags], env)
    expect(message).toContain(name)
    expect(message).toContain(reason)
  })
})
