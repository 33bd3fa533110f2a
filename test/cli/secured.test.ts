// kdp-archiver and kdp-loadgen against a real secured broker started here: SASL_SSL with SCRAM and
// PLAIN users and OAUTHBEARER, mutual TLS, certificates made by openssl at test time.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTestCertificates, type TestCertificates } from '../../services/certificates.js'
import { type KafkaCluster, startKafka } from '../../services/kafka.js'
import { connectKafka, mskIamSasl, probeBrokers } from '../../src/kafka/index.js'
import { silentLogger } from '../../src/util/logging.js'
import { archiverScript, loadgenScript, ownLines, runToExit, start, waitFor } from '../helpers/commands.js'
import { eventually, uniqueName } from '../helpers/names.js'

const alicePassword = `alice-${randomBytes(12).toString('hex')}`
const bobPassword = `bob-${randomBytes(12).toString('hex')}`
let dir: string
let certs: TestCertificates
let kafka: KafkaCluster
let saslSsl: string
let mutualTls: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kdp-secured-'))
  certs = await makeTestCertificates(dir)
  kafka = await startKafka({
    secured: { certificates: certs, scramUsers: { alice: alicePassword }, plainUsers: { bob: bobPassword } },
  })
  if (!kafka.secured) throw new Error('the broker has no secured listeners')
  ;({ saslSsl, mutualTls } = kafka.secured)
})

afterAll(async () => {
  await kafka?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** An unsigned JWT, which the broker's default OAUTHBEARER validator accepts. */
function unsignedJwt(subject: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return `${part({ alg: 'none' })}.${part({ sub: subject, iat: now, exp: now + 3600 })}.`
}

const scram = (password: string): Record<string, string> => ({
  KDP_TLS_CA: certs.ca,
  KDP_SASL_MECHANISM: 'scram-sha-512',
  KDP_SASL_USERNAME: 'alice',
  KDP_SASL_PASSWORD: password,
})

/** Every record line of the archive's gzip JSON Lines files under `root`. */
function archivedLines(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.jsonl.gz'))
    .flatMap((name) =>
      gunzipSync(readFileSync(join(root, name)))
        .toString('utf8')
        .split('\n'),
    )
    .filter((line) => line !== '')
}

describe('kdp-archiver through SASL_SSL (SCRAM-SHA-512)', () => {
  it('archives real records produced through the same listener, and never shows the password', async () => {
    const topic = uniqueName('secured')
    const passwordFile = file('alice-password', `${alicePassword}\n`)
    // The load generator: the password from a file, the CA from a flag.
    const produced = await runToExit(loadgenScript, [
      ...['--brokers', saslSsl, '--tls-ca', certs.ca, '--sasl-mechanism', 'scram-sha-512'],
      ...['--sasl-username', 'alice', '--sasl-password-file', passwordFile],
      ...['--topic', topic, '--partitions', '1', '--count', '300', '--rate', '0', '--seed', '3'],
    ])
    expect(produced.code, produced.stderr).toBe(0)
    expect(produced.stdout).toContain('sent 300 records')

    const sinkDir = join(dir, uniqueName('archive'))
    const token = `tok-${randomBytes(8).toString('hex')}`
    const cluster = uniqueName('secured-cluster')
    // The node: everything from the environment, the password included.
    const node = start(
      archiverScript,
      ['--sink', `file://${sinkDir}`, '--http-port', '0', '--include', topic, '--log-level', 'debug'],
      { ...scram(alicePassword), KDP_BROKERS: saslSsl, KDP_CLUSTER: cluster, KDP_TOKEN: token },
    )
    try {
      const [line, address] = await waitFor(
        node,
        /^kdp-archiver: node \S+ running; HTTP API at (\S+) .*$/m,
        90_000,
      )
      expect(line).toContain('Kafka TLS (CA ')
      expect(line).toContain('SASL scram-sha-512 as alice')
      const put = await fetch(`${address}/topics/${topic}/config`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rotation: { maxRecords: 100 } }),
      })
      expect(put.status, await put.text()).toBe(200)
      const lines = await eventually(
        'the 300 records in the archive',
        () => {
          const found = archivedLines(sinkDir)
          return found.length >= 300 ? found : undefined
        },
        90_000,
      )
      expect(lines).toHaveLength(300)
      expect(new Set(lines.map((l) => (JSON.parse(l) as { id: string }).id)).size).toBe(300)
    } finally {
      node.child.kill('SIGTERM')
    }
    expect(await node.exit).toEqual({ code: 0, signal: null })
    for (const output of [node.stdout, node.stderr, produced.stdout, produced.stderr]) {
      expect(output).not.toContain(alicePassword)
    }
  })

  it('exits 3 with one line on a wrong password, and on a CA that did not sign the broker', async () => {
    const sink = `file://${join(dir, 'unused')}`
    const wrongPassword = await runToExit(
      archiverScript,
      ['--brokers', saslSsl, '--sink', sink],
      scram('wrong'),
    )
    expect(wrongPassword.code, wrongPassword.stderr).toBe(3)
    expect(ownLines(wrongPassword.stderr)).toEqual([
      expect.stringMatching(
        /^kdp-archiver: cannot connect to the Kafka brokers .*: authentication failed: .*SCRAM-SHA-512.*; check --sasl-mechanism/,
      ),
    ])

    const wrongCa = await runToExit(archiverScript, ['--brokers', saslSsl, '--sink', sink], {
      ...scram(alicePassword),
      KDP_TLS_CA: certs.otherCa,
    })
    expect(wrongCa.code, wrongCa.stderr).toBe(3)
    expect(ownLines(wrongCa.stderr)).toEqual([
      expect.stringMatching(
        /^kdp-archiver: cannot connect to the Kafka brokers .*: their TLS certificate is not trusted: .*; give the CA .* --tls-ca$/,
      ),
    ])
    for (const run of [wrongPassword, wrongCa]) expect(run.stdout + run.stderr).not.toContain(alicePassword)
  })

  it('prints its config without the password given through the environment or a file', async () => {
    const config = file(
      'kdp.json',
      JSON.stringify({ kafka: { brokers: [saslSsl], sasl: { password: alicePassword } }, sink: '/tmp/x' }),
    )
    for (const env of [scram(alicePassword), { ...scram(''), KDP_CONFIG: config }]) {
      const printed = await runToExit(
        archiverScript,
        ['--sink', '/tmp/x', '--brokers', saslSsl, '--print-config'],
        env,
      )
      expect(printed.code, printed.stderr).toBe(0)
      expect(printed.stdout).toContain('"password": "[redacted]"')
      expect(printed.stdout + printed.stderr).not.toContain(alicePassword)
    }
  })
})

describe('kdp-loadgen through the other mechanisms', () => {
  const count = async (topic: string): Promise<number> => {
    const client = connectKafka({ brokers: kafka.brokers, clientId: 'kdp-test', logger: silentLogger })
    try {
      const offsets = await client.endOffsets(topic)
      return [...offsets.values()].reduce((sum, offset) => sum + offset, 0)
    } finally {
      await client.disconnect()
    }
  }
  const produce = (topic: string, args: string[], env: Record<string, string> = {}) =>
    runToExit(loadgenScript, [...args, '--topic', topic, '--count', '50', '--rate', '0'], env)

  it('SASL/PLAIN from a config file (as for Confluent Cloud)', async () => {
    const topic = uniqueName('plain')
    const config = file(
      'plain.json',
      JSON.stringify({
        kafka: {
          brokers: [saslSsl],
          tls: { ca: certs.ca },
          sasl: { mechanism: 'plain', username: 'bob', passwordFile: file('bob-password', bobPassword) },
        },
      }),
    )
    const result = await produce(topic, ['--config', config])
    expect(result.code, result.stderr).toBe(0)
    expect(await count(topic)).toBe(50)
  })

  it('mutual TLS (as for Aiven), and exit 3 without a client certificate', async () => {
    const topic = uniqueName('mtls')
    const tls = ['--brokers', mutualTls, '--tls-ca', certs.ca]
    const result = await produce(topic, [
      ...tls,
      '--tls-cert',
      certs.clientCert,
      '--tls-key',
      certs.clientKey,
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(await count(topic)).toBe(50)
    const refused = await produce(uniqueName('mtls-refused'), tls)
    expect(refused.code, refused.stderr).toBe(3)
    expect(ownLines(refused.stderr)).toEqual([
      expect.stringMatching(
        /^kdp-loadgen: cannot connect .*: they refused the TLS handshake .*--tls-cert, --tls-key\)$/,
      ),
    ])
  })

  it('TLS without verification only when asked, with a warning; a plain client gets a hint', async () => {
    const sasl = ['--sasl-mechanism', 'scram-sha-512', '--sasl-username', 'alice']
    const env = { KDP_SASL_PASSWORD: alicePassword }
    const topic = uniqueName('insecure')
    const insecure = await produce(topic, ['--brokers', saslSsl, '--tls-insecure', ...sasl], env)
    expect(insecure.code, insecure.stderr).toBe(0)
    expect(insecure.stderr).toContain("--tls-insecure: the brokers' TLS certificates are NOT verified")
    expect(await count(topic)).toBe(50)
    // Without --tls-insecure the broker's private CA is not trusted.
    const verified = await produce(uniqueName('verified'), ['--brokers', saslSsl, ...sasl], {
      ...env,
      KDP_TLS: 'true',
    })
    expect(verified.code, verified.stderr).toBe(3)
    // No TLS at all: the listener closes the connection, and the message says what to check.
    const plain = await produce(uniqueName('plain-client'), ['--brokers', saslSsl, ...sasl], env)
    expect(plain.code, plain.stderr).toBe(1)
    expect(ownLines(plain.stderr)).toEqual([
      expect.stringMatching(
        /^kdp-loadgen: cannot reach the Kafka brokers .*\(does the listener need TLS \(--tls\)/,
      ),
    ])
  })

  it('OAUTHBEARER with a token command and with a token file', async () => {
    const oauth = ['--brokers', saslSsl, '--tls-ca', certs.ca, '--sasl-mechanism', 'oauthbearer']
    const fromCommand = uniqueName('oauth-command')
    const command = await produce(fromCommand, [
      ...oauth,
      '--sasl-token-command',
      `printf %s '${unsignedJwt('carol')}'`,
    ])
    expect(command.code, command.stderr).toBe(0)
    expect(await count(fromCommand)).toBe(50)
    const fromFile = uniqueName('oauth-file')
    const tokenFile = file('token', `${unsignedJwt('dave')}\n`)
    const result = await produce(fromFile, oauth, { KDP_SASL_TOKEN_FILE: tokenFile })
    expect(result.code, result.stderr).toBe(0)
    expect(await count(fromFile)).toBe(50)
    // A command that cannot give a token: exit 3, without the command itself (it may hold a secret).
    const failing = await produce(uniqueName('oauth-failing'), [
      ...oauth,
      '--sasl-token-command',
      'echo no session for secret-42 >&2; exit 7',
    ])
    expect(failing.code, failing.stderr).toBe(3)
    expect(ownLines(failing.stderr)).toEqual([
      expect.stringMatching(
        /: no credentials: the token command failed \(exit code 7\): no session for secret-42; check /,
      ),
    ])
    expect(failing.stderr).not.toContain('exit 7')
  })
})

describe('AWS MSK IAM wiring (no AWS here)', () => {
  /** Stands in for aws-msk-iam-sasl-signer-js, whose tokens only MSK accepts; this broker takes unsigned JWTs. */
  const signer =
    (expiresInMs: number, regions: string[]) =>
    async ({ region }: { region: string }) => {
      regions.push(region)
      return { token: unsignedJwt('msk-user'), expiryTime: Date.now() + expiresInMs }
    }
  const probe = (sasl: ReturnType<typeof mskIamSasl>) =>
    probeBrokers({
      brokers: saslSsl.split(','),
      clientId: 'kdp-test',
      ssl: { ca: readFileSync(certs.ca, 'utf8') },
      sasl,
      logger: silentLogger,
    })

  it("hands the signer's token for the region to the broker over OAUTHBEARER, reusing it until near its expiry", async () => {
    const regions: string[] = []
    const sasl = mskIamSasl({ region: 'eu-west-1', signer: signer(900_000, regions) })
    await probe(sasl)
    await probe(sasl)
    expect(regions).toEqual(['eu-west-1'])
    // A token within a minute of its expiry is signed again for every authentication.
    const renewed: string[] = []
    const short = mskIamSasl({ region: 'us-east-2', signer: signer(30_000, renewed) })
    await probe(short)
    await probe(short)
    expect(renewed.length).toBeGreaterThanOrEqual(2)
    expect(new Set(renewed)).toEqual(new Set(['us-east-2']))
  })
})
