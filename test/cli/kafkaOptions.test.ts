// The Kafka connection settings and the config file, as parseCli and parseLoadgenCli read them
// (no broker: the secured broker's tests are in secured.test.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTestCertificates, type TestCertificates } from '../../services/certificates.js'
import type { CliResult } from '../../src/cli/command.js'
import { kafkaSecrets, kafkaSecurity } from '../../src/cli/kafkaSecurity.js'
import { type ArchiverCliOptions, parseCli } from '../../src/cli/options.js'
import { parseLoadgenCli } from '../../src/loadgen/cli.js'

const password = 'pa55-w0rd-that-must-never-show'
const required = ['--brokers', 'k:9092', '--sink', 'file:///data/archive']
let dir: string
let certs: TestCertificates

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kdp-kafka-options-'))
  certs = await makeTestCertificates(dir)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function run(argv: readonly string[], env: Record<string, string> = {}): ArchiverCliOptions {
  const result = parseCli(argv, env, dir)
  if (result.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(result)}`)
  return result.options
}

function error(argv: readonly string[], env: Record<string, string> = {}): string {
  const result: CliResult = parseCli(argv, env, dir)
  if (result.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result)}`)
  expect(result.message).not.toContain(password)
  return result.message
}

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('Kafka connection settings', () => {
  it('connects without TLS or SASL by default', () => {
    expect(run(required).kafka).toEqual({
      tls: false,
      sasl: undefined,
      connectionTimeoutMs: undefined,
      requestTimeoutMs: undefined,
    })
    expect(kafkaSecurity(run(required).kafka)).toEqual({})
  })

  it('reads SCRAM with the password from the environment, never from a flag', () => {
    const options = run([...required, '--sasl-mechanism', 'SCRAM-SHA-512', '--sasl-username', 'alice'], {
      KDP_SASL_PASSWORD: password,
    })
    expect(options.kafka.sasl).toMatchObject({ mechanism: 'scram-sha-512', username: 'alice' })
    expect(JSON.stringify(options)).not.toContain(password)
    expect(kafkaSecurity(options.kafka).sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'alice',
      password,
    })
    expect(error([...required, '--sasl-password', password])).toContain("unknown option '--sasl-password'")
    expect(kafkaSecrets(options.kafka).map((secret) => secret.reveal())).toEqual([password])
  })

  it('reads the password from a file, without its trailing newline', () => {
    const passwordFile = file('password', `${password}\n`)
    const options = run([
      ...required,
      '--sasl-mechanism',
      'plain',
      '--sasl-username',
      'key',
      '--sasl-password-file',
      passwordFile,
    ])
    expect(kafkaSecurity(options.kafka).sasl).toMatchObject({ mechanism: 'plain', password })
  })

  it('reads TLS files: the CA, and a client certificate with its key', () => {
    const options = run([
      ...required,
      '--tls-ca',
      certs.ca,
      '--tls-cert',
      certs.clientCert,
      '--tls-key',
      certs.clientKey,
      '--kafka-connection-timeout',
      '10s',
      '--kafka-request-timeout',
      '45s',
    ])
    const security = kafkaSecurity(options.kafka)
    expect(security.ssl).toEqual({
      ca: readFileSync(certs.ca, 'utf8'),
      cert: readFileSync(certs.clientCert, 'utf8'),
      key: readFileSync(certs.clientKey, 'utf8'),
    })
    expect(security).toMatchObject({ connectionTimeoutMs: 10_000, requestTimeoutMs: 45_000 })
    // The key stays out of every printed form of the options.
    expect(JSON.stringify(options)).not.toContain('PRIVATE KEY')
    expect(run([...required, '--tls']).kafka.tls).toMatchObject({ ca: undefined, insecure: false })
    expect(kafkaSecurity(run([...required, '--tls-insecure']).kafka).ssl).toEqual({
      rejectUnauthorized: false,
    })
  })

  it('turns MSK IAM into OAUTHBEARER over TLS, with the region from AWS_REGION', () => {
    const options = run([...required, '--sasl-mechanism', 'aws-msk-iam'], { AWS_REGION: 'eu-west-1' })
    expect(options.kafka.sasl).toEqual({ mechanism: 'aws-msk-iam', region: 'eu-west-1' })
    expect(options.kafka.tls).not.toBe(false)
    expect(kafkaSecurity(options.kafka).sasl?.mechanism).toBe('oauthbearer')
    expect(
      run([...required, '--sasl-mechanism', 'aws-msk-iam', '--sasl-aws-region', 'us-east-2'], {
        AWS_REGION: 'eu-west-1',
      }).kafka.sasl,
    ).toEqual({ mechanism: 'aws-msk-iam', region: 'us-east-2' })
  })

  it.each([
    [['--sasl-mechanism', 'scram-sha-512'], {}, 'scram-sha-512 needs --sasl-username'],
    [
      ['--sasl-mechanism', 'scram-sha-512', '--sasl-username', 'a'],
      {},
      'needs a password: KDP_SASL_PASSWORD',
    ],
    [
      ['--sasl-mechanism', 'plain', '--sasl-username', 'a', '--sasl-password-file', 'password'],
      { KDP_SASL_PASSWORD: password },
      'give the password once',
    ],
    [
      ['--sasl-username', 'a'],
      {},
      '--sasl-username (or KDP_SASL_USERNAME, or kafka.sasl.username in the config file) is set but --sasl-mechanism',
    ],
    [['--sasl-mechanism', 'kerberos'], {}, 'invalid --sasl-mechanism: expected one of plain, scram-sha-256'],
    [['--sasl-mechanism', 'oauthbearer'], {}, 'oauthbearer needs one of --sasl-token-command'],
    [['--sasl-mechanism', 'aws-msk-iam'], {}, "aws-msk-iam needs the cluster's region"],
    [
      ['--sasl-mechanism', 'aws-msk-iam', '--sasl-username', 'a'],
      { AWS_REGION: 'eu-west-1' },
      'is only for other mechanisms',
    ],
    [['--sasl-aws-region', 'mars'], {}, 'invalid --sasl-aws-region: expected an AWS region'],
    [['--tls-cert', 'client.pem'], {}, 'mutual TLS needs both --tls-cert'],
    [['--tls-ca', 'missing.pem'], {}, 'invalid --tls-ca: cannot read'],
    [['--tls-ca', 'client.key'], {}, 'expected PEM certificates'],
    [['--tls-insecure', '--tls-ca', 'ca.pem'], {}, '--tls-insecure (or KDP_TLS_INSECURE'],
    [['--tls-cert', 'client.pem', '--tls-key', 'ca.key'], {}, 'does not belong to the certificate'],
    [['--kafka-request-timeout', 'soon'], {}, 'invalid --kafka-request-timeout: expected a duration'],
  ])('refuses %j', (flags, env: Record<string, string>, says) => {
    file('password', password)
    expect(error([...required, ...flags], env)).toContain(says)
  })

  it('names the variable a bad value came from', () => {
    expect(error(required, { KDP_TLS_CA: join(dir, 'nope.pem') })).toContain(
      'invalid --tls-ca (from KDP_TLS_CA): cannot read',
    )
    expect(error(required, { KDP_SASL_MECHANISM: 'scram-sha-256', KDP_SASL_USERNAME: 'a' })).toContain(
      'scram-sha-256 needs a password',
    )
  })

  it('gives the load generator the same settings', () => {
    const result = parseLoadgenCli(
      ['--brokers', 'k:1', '--sasl-mechanism', 'scram-sha-256', '--sasl-username', 'u', '--tls-ca', certs.ca],
      { KDP_SASL_PASSWORD: password },
      1,
      dir,
    )
    if (result.kind !== 'run') throw new Error(JSON.stringify(result))
    expect(kafkaSecurity(result.options.kafka)).toMatchObject({
      ssl: { ca: readFileSync(certs.ca, 'utf8') },
      sasl: { mechanism: 'scram-sha-256', username: 'u', password },
    })
  })
})

describe('the config file', () => {
  const config = (settings: unknown, name = 'kdp.json') => file(name, JSON.stringify(settings))

  it('holds every setting, a flag > the environment > the file > the default', () => {
    const path = config({
      kafka: {
        brokers: ['f1:9092', 'f2:9092'],
        tls: { ca: certs.ca },
        sasl: { mechanism: 'scram-sha-512', username: 'file-user', password },
        connectionTimeout: '5s',
      },
      sink: './archive',
      include: ['orders-.*', 'a{1,3}'],
      exclude: ['.*-test'],
      cluster: 'file-cluster',
      nodeId: 'file-node',
      http: { host: '0.0.0.0', port: 9000, token: 'file-token' },
      maxMessagesInFlight: 5000,
      maxBytesInFlight: '1GiB',
      logLevel: 'warn',
      progress: false,
      s3: { endpoint: 'http://127.0.0.1:9000', region: 'eu-west-3', forcePathStyle: true, sse: 'AES256' },
    })
    const fromFile = run(['--config', path])
    expect(fromFile).toMatchObject({
      brokers: ['f1:9092', 'f2:9092'],
      sink: `file://${dir}/archive`,
      include: ['orders-.*', 'a{1,3}'],
      exclude: ['.*-test'],
      cluster: 'file-cluster',
      nodeId: 'file-node',
      httpHost: '0.0.0.0',
      httpPort: 9000,
      maxMessagesInFlight: 5000,
      maxBytesInFlight: 2 ** 30,
      logLevel: 'warn',
      progress: false,
      s3: {
        endpoint: 'http://127.0.0.1:9000',
        region: 'eu-west-3',
        forcePathStyle: true,
        serverSideEncryption: 'AES256',
      },
    })
    expect(run(['--config', path], { AWS_REGION: 'us-west-2' }).s3.region).toBe('us-west-2')
    expect(error(['--config', path], { KDP_S3_SSE_KMS_KEY_ID: 'k' })).toContain(
      'KDP_S3_SSE (s3.sse) must be aws:kms',
    )
    expect(fromFile.token?.reveal()).toBe('file-token')
    expect(kafkaSecurity(fromFile.kafka)).toMatchObject({
      sasl: { username: 'file-user', password },
      connectionTimeoutMs: 5000,
    })
    const layered = run(['--config', path, '--cluster', 'flag-cluster', '--http-port', '1'], {
      KDP_CLUSTER: 'env-cluster',
      KDP_NODE_ID: 'env-node',
      KDP_HTTP_PORT: '2',
    })
    expect(layered).toMatchObject({
      cluster: 'flag-cluster',
      nodeId: 'env-node',
      httpPort: 1,
      logLevel: 'warn',
    })
    expect(run(['--config', config({ kafka: { brokers: 'k:1' }, sink: '/x' }, 'min.json')])).toMatchObject({
      httpPort: 8080,
      cluster: 'kdp',
      progress: true,
    })
    expect(
      run(['--config', config({ kafka: { brokers: 'k:1' }, sink: '/x', progress: 'no' }, 'p.json')]).progress,
    ).toBe(false)
    expect(
      error(['--config', config({ kafka: { brokers: 'k:1' }, sink: '/x', progress: 'maybe' }, 'p.json')]),
    ).toContain('invalid progress in')
    // KDP_CONFIG names it too, relative to the working directory.
    expect(run([], { KDP_CONFIG: 'kdp.json' }).cluster).toBe('file-cluster')
  })

  it('reads a YAML file as it reads JSON, with the same field checks', () => {
    const yaml = file(
      'kdp.yaml',
      [
        'kafka:',
        '  brokers: [k1:9092, k2:9092]',
        'sink: /x',
        'cluster: yaml-cluster',
        'http:',
        '  port: 9000',
        '',
      ].join('\n'),
    )
    const options = run(['--config', yaml])
    expect(options.brokers).toEqual(['k1:9092', 'k2:9092'])
    expect(options.cluster).toBe('yaml-cluster')
    expect(options.httpPort).toBe(9000)
    expect(error(['--config', file('typo.yml', 'kafka:\n  brokers: k:1\nsink: /x\nclustr: a\n')])).toContain(
      'clustr: unknown field',
    )
  })

  it('names the field and the file of a bad value, and refuses unknown fields', () => {
    const path = config({
      kafka: { brokers: ['nohost'], sasl: { mechanism: 'plain', pasword: password } },
      http: { port: 'eighty' },
      sink: 'ftp://x',
      colour: 'blue',
    })
    const message = error(['--config', path])
    expect(message).toContain(`invalid config file ${path}: kafka.sasl.pasword: unknown field`)
    expect(message).toContain(`invalid config file ${path}: colour: unknown field`)
    const fixed = config({ kafka: { brokers: ['nohost'] }, http: { port: 'eighty' }, sink: 'ftp://x' })
    const invalid = error(['--config', fixed])
    expect(invalid).toContain(`invalid kafka.brokers in ${fixed}: expected host:port`)
    expect(invalid).toContain(`invalid http.port in ${fixed}: expected a whole number`)
    expect(invalid).toContain(`invalid sink in ${fixed}: unsupported sink scheme 'ftp://'`)
  })

  it('says when the file is missing or not JSON', () => {
    expect(error(['--config', 'none.json'])).toContain(`cannot read the config file ${dir}/none.json`)
    expect(error(['--config', file('bad.json', '{ "sink": ')])).toContain('is not valid JSON')
    expect(error(['--config', file('list.json', '[]')])).toContain('must hold an object of settings')
    expect(error(['--config', file('bad.yaml', 'sink: [unclosed')])).toContain('is not valid YAML')
    expect(error(['--config', file('two.yaml', 'sink: /x\n---\nsink: /y\n')])).toContain('one YAML document')
    expect(error([], { KDP_CONFIG: 'none.json' })).toContain('(from KDP_CONFIG)')
  })

  it('prints the settings in effect, secrets redacted, as a file that reads back', () => {
    const passwordFile = file('password', password)
    const result = parseCli(
      [
        ...required,
        '--sasl-mechanism',
        'plain',
        '--sasl-username',
        'u',
        '--print-config',
        '--tls-ca',
        certs.ca,
      ],
      { KDP_TOKEN: password, KDP_SASL_PASSWORD_FILE: passwordFile, KDP_HTTP_PORT: '9001' },
      dir,
    )
    if (result.kind !== 'config') throw new Error(JSON.stringify(result))
    expect(result.text).not.toContain(password)
    const printed = JSON.parse(result.text) as Record<string, Record<string, unknown>>
    expect(printed).toMatchObject({
      kafka: {
        brokers: ['k:9092'],
        tls: { ca: certs.ca, enabled: false, insecure: false },
        sasl: { mechanism: 'plain', username: 'u', passwordFile },
      },
      sink: 'file:///data/archive',
      http: { port: 9001, host: '127.0.0.1', token: '[redacted]' },
      progress: true,
    })
    // Read back, it gives the same options (the token aside: it was redacted).
    const again = run(['--config', config(printed, 'printed.json')])
    expect(again).toMatchObject({ httpPort: 9001, sink: 'file:///data/archive', brokers: ['k:9092'] })
    expect(kafkaSecurity(again.kafka).sasl).toMatchObject({ username: 'u', password })
  })

  it('gives the load generator the Kafka part of the archiver file, and refuses unknown fields', () => {
    const path = config({ kafka: { brokers: ['f:1'] }, sink: '/x', http: { port: 1 } }, 'shared.json')
    const result = parseLoadgenCli(['--config', path], {}, 1, dir)
    expect(result).toMatchObject({ kind: 'run', options: { brokers: ['f:1'] } })
    const typo = config({ kafka: { brokerz: ['f:1'] } }, 'typo.json')
    expect(parseLoadgenCli(['--config', typo], {}, 1, dir)).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('kafka.brokerz: unknown field'),
    })
  })
})
