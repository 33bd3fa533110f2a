// Certificates for the secured test broker, made at test time with openssl: a CA, the broker's
// certificate for 127.0.0.1 signed by it, a client certificate for mutual TLS, and an unrelated CA
// (to prove that a client trusting the wrong CA is refused). Nothing here is fit for production:
// short-lived, unencrypted keys in a temporary folder.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runToEnd } from './process.js'

/** PEM files in one folder. */
export interface TestCertificates {
  readonly dir: string
  /** The CA that signed the broker's and the client's certificates. */
  readonly ca: string
  /** Another CA, which signed nothing the broker uses. */
  readonly otherCa: string
  /** The broker's private key (PKCS#8) followed by its certificate: a Kafka PEM keystore. */
  readonly brokerKeystore: string
  readonly clientCert: string
  readonly clientKey: string
}

/** Throws a message naming what to install when openssl is missing. */
export function assertOpensslInstalled(): void {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'openssl is needed to make the test certificates of the secured Kafka broker, and it was not found ' +
        `(${probe.error?.message ?? probe.stderr}). Install it (Debian: apt-get install openssl).`,
    )
  }
}

async function openssl(args: string[]): Promise<void> {
  await runToEnd('openssl', args)
}

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`)
  const key = join(dir, `${name}.key`)
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=kdp test ${name}`,
    '-keyout',
    key,
    '-out',
    cert,
  ])
  return { cert, key }
}

async function signed(
  dir: string,
  name: string,
  ca: { cert: string; key: string },
  extensions: string,
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`)
  const csr = join(dir, `${name}.csr`)
  const cert = join(dir, `${name}.pem`)
  const ext = join(dir, `${name}.ext`)
  writeFileSync(ext, extensions)
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', key, '-out', csr])
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    cert,
  ])
  return { cert, key }
}

/** Makes the certificates in `dir` (which must exist). */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  assertOpensslInstalled()
  const ca = await makeCa(dir, 'ca')
  const other = await makeCa(dir, 'other-ca')
  // Clients connect to 127.0.0.1 and check it against the certificate's IP addresses.
  const broker = await signed(
    dir,
    'broker',
    ca,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  )
  const client = await signed(dir, 'client', ca, 'extendedKeyUsage=clientAuth\n')
  const brokerKeystore = join(dir, 'broker-keystore.pem')
  writeFileSync(brokerKeystore, readFileSync(broker.key, 'utf8') + readFileSync(broker.cert, 'utf8'))
  return {
    dir,
    ca: ca.cert,
    otherCa: other.cert,
    brokerKeystore,
    clientCert: client.cert,
    clientKey: client.key,
  }
}
