// The Kafka connection settings both commands share: brokers, TLS (CA, client certificate for
// mutual TLS, skipping verification only on request), SASL (PLAIN, SCRAM-SHA-256/512, AWS MSK IAM,
// OAUTHBEARER from a token command or file) and timeouts, with their codecs. Passwords and keys
// come from the environment or from files, never from a flag, and stay in `Secret`s until the
// connection is built (kafkaSecurity.ts); kafkaSettings.ts checks them together.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type * as t from 'io-ts'
import { messageOf } from '../util/errors.js'
import type { FlagSpec } from './layers.js'
import {
  booleanFlag,
  brokersCodec,
  fromText,
  optional,
  type Parsed,
  parseDuration,
  Secret,
} from './values.js'

const group = 'Kafka connection:'

/** A file a setting names, read when the settings are decoded; JSON shows its path only. */
export class SettingFile {
  constructor(
    readonly path: string,
    readonly text: Secret,
  ) {}
  toJSON(): string {
    return this.path
  }
}

export const kafkaFlags: readonly FlagSpec[] = [
  {
    name: 'brokers',
    env: 'KDP_BROKERS',
    file: 'kafka.brokers',
    kind: 'list',
    placeholder: '<host:port,...>',
    required: true,
    group,
    description: 'Kafka bootstrap brokers, comma-separated (the flag may be repeated).',
  },
  {
    name: 'tls',
    env: 'KDP_TLS',
    file: 'kafka.tls.enabled',
    kind: 'boolean',
    group,
    description: "Connect with TLS, trusting the system's CAs. Any other --tls-* flag implies it.",
  },
  {
    name: 'tls-ca',
    env: 'KDP_TLS_CA',
    file: 'kafka.tls.ca',
    kind: 'string',
    placeholder: '<file>',
    group,
    description: "PEM file of the CAs to trust instead of the system's (a private CA, Aiven's project CA).",
  },
  {
    name: 'tls-cert',
    env: 'KDP_TLS_CERT',
    file: 'kafka.tls.cert',
    kind: 'string',
    placeholder: '<file>',
    group,
    description: 'PEM file of the client certificate for mutual TLS (with --tls-key).',
  },
  {
    name: 'tls-key',
    env: 'KDP_TLS_KEY',
    file: 'kafka.tls.key',
    kind: 'string',
    placeholder: '<file>',
    group,
    description:
      "PEM file of the client certificate's private key. An encrypted key's passphrase comes from KDP_TLS_KEY_PASSWORD.",
  },
  {
    name: 'tls-key-password',
    cli: false,
    env: 'KDP_TLS_KEY_PASSWORD',
    file: 'kafka.tls.keyPassword',
    kind: 'string',
    secret: true,
    description: 'Passphrase of an encrypted --tls-key.',
  },
  {
    name: 'tls-insecure',
    env: 'KDP_TLS_INSECURE',
    file: 'kafka.tls.insecure',
    kind: 'boolean',
    group,
    description:
      "Do not verify the brokers' certificates: anyone on the network path can read and change the traffic. For tests only; the node warns at startup.",
  },
  {
    name: 'sasl-mechanism',
    env: 'KDP_SASL_MECHANISM',
    file: 'kafka.sasl.mechanism',
    kind: 'string',
    placeholder: '<name>',
    defaultText: 'none',
    group,
    description: 'plain, scram-sha-256, scram-sha-512, aws-msk-iam or oauthbearer.',
  },
  {
    name: 'sasl-username',
    env: 'KDP_SASL_USERNAME',
    file: 'kafka.sasl.username',
    kind: 'string',
    placeholder: '<name>',
    group,
    description: 'User of plain and scram-* (Confluent Cloud: the API key).',
  },
  {
    name: 'sasl-password',
    cli: false,
    env: 'KDP_SASL_PASSWORD',
    file: 'kafka.sasl.password',
    kind: 'string',
    secret: true,
    description: 'Password of plain and scram-*.',
  },
  {
    name: 'sasl-password-file',
    env: 'KDP_SASL_PASSWORD_FILE',
    file: 'kafka.sasl.passwordFile',
    kind: 'string',
    placeholder: '<file>',
    group,
    description:
      'File holding the password (a trailing newline is dropped). Or give it in KDP_SASL_PASSWORD: there is no flag for the password itself, so that it never shows in the process list.',
  },
  {
    name: 'sasl-token-command',
    env: 'KDP_SASL_TOKEN_COMMAND',
    file: 'kafka.sasl.tokenCommand',
    kind: 'string',
    placeholder: '<command>',
    group,
    description: 'oauthbearer: a shell command that prints a token, run whenever a connection authenticates.',
  },
  {
    name: 'sasl-token-file',
    env: 'KDP_SASL_TOKEN_FILE',
    file: 'kafka.sasl.tokenFile',
    kind: 'string',
    placeholder: '<file>',
    group,
    description: 'oauthbearer: a file holding the token, read again whenever a connection authenticates.',
  },
  {
    name: 'sasl-aws-region',
    env: 'KDP_SASL_AWS_REGION',
    file: 'kafka.sasl.awsRegion',
    kind: 'string',
    placeholder: '<region>',
    defaultText: 'AWS_REGION',
    group,
    description:
      "aws-msk-iam: the cluster's region. Credentials come from the default AWS chain (AWS_PROFILE, roles...).",
  },
  {
    name: 'kafka-connection-timeout',
    env: 'KDP_KAFKA_CONNECTION_TIMEOUT',
    file: 'kafka.connectionTimeout',
    kind: 'string',
    placeholder: '<time>',
    defaultText: '1s',
    group,
    description: 'Time to open a connection to a broker (TLS and SASL included).',
  },
  {
    name: 'kafka-request-timeout',
    env: 'KDP_KAFKA_REQUEST_TIMEOUT',
    file: 'kafka.requestTimeout',
    kind: 'string',
    placeholder: '<time>',
    defaultText: '30s',
    group,
    description: 'Time a request to a broker may wait for its answer.',
  },
]

const mechanisms = ['plain', 'scram-sha-256', 'scram-sha-512', 'aws-msk-iam', 'oauthbearer'] as const
type Mechanism = (typeof mechanisms)[number]

function readSettingFile(
  path: string,
  cwd: string,
  check: (text: string) => string | undefined,
): Parsed<SettingFile> {
  const absolute = resolve(cwd, path.trim())
  let text: string
  try {
    text = readFileSync(absolute, 'utf8')
  } catch (error) {
    return { reason: `cannot read ${absolute}: ${messageOf(error).replace(/^[A-Z]+: /, '')}` }
  }
  const problem = check(text)
  return problem === undefined
    ? { ok: new SettingFile(absolute, new Secret(text)) }
    : { reason: `${absolute}: ${problem}` }
}

function certificates(text: string): string | undefined {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) return 'expected PEM certificates (-----BEGIN CERTIFICATE-----)'
  for (const block of blocks) {
    try {
      new X509Certificate(block)
    } catch (error) {
      return `a certificate does not parse: ${messageOf(error)}`
    }
  }
  return undefined
}

const pemFile = (name: string, cwd: string, check: (text: string) => string | undefined) =>
  optional(fromText<SettingFile>(name, (s) => readSettingFile(s, cwd, check)))
const secretText = (name: string) =>
  optional(
    fromText<Secret>(name, (s) => (s === '' ? { reason: 'expected a value' } : { ok: new Secret(s) }), {
      secret: true,
    }),
  )

/** The io-ts codecs of kafkaFlags; files are read (relative to `cwd`) and checked as they decode. */
export const kafkaCodecs = (cwd: string) => ({
  brokers: brokersCodec,
  tls: booleanFlag(false),
  'tls-ca': pemFile('CaFile', cwd, certificates),
  'tls-cert': pemFile('CertificateFile', cwd, certificates),
  'tls-key': pemFile('KeyFile', cwd, (text) =>
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)
      ? undefined
      : 'expected a PEM private key (-----BEGIN PRIVATE KEY-----)',
  ),
  'tls-key-password': secretText('KeyPassword'),
  'tls-insecure': booleanFlag(false),
  'sasl-mechanism': optional(
    fromText<Mechanism>('SaslMechanism', (s) => {
      const name = s.trim().toLowerCase()
      return (mechanisms as readonly string[]).includes(name)
        ? { ok: name as Mechanism }
        : { reason: `expected one of ${mechanisms.join(', ')}` }
    }),
  ),
  'sasl-username': optional(
    fromText<string>('Username', (s) => (s === '' ? { reason: 'expected a name' } : { ok: s })),
  ),
  'sasl-password': secretText('Password'),
  'sasl-password-file': pemFile('PasswordFile', cwd, (text) =>
    text.replace(/\r?\n$/, '') === '' ? 'the file is empty' : undefined,
  ),
  'sasl-token-command': optional(
    fromText<string>('Command', (s) =>
      s.trim() === '' ? { reason: 'expected a command' } : { ok: s.trim() },
    ),
  ),
  'sasl-token-file': pemFile('TokenFile', cwd, () => undefined),
  'sasl-aws-region': optional(
    fromText<string>('Region', (s) =>
      /^[a-z]{2}(-[a-z]+)+-\d+$/.test(s.trim())
        ? { ok: s.trim() }
        : { reason: 'expected an AWS region such as eu-west-1' },
    ),
  ),
  'kafka-connection-timeout': optional(fromText<number>('Duration', parseDuration)),
  'kafka-request-timeout': optional(fromText<number>('Duration', parseDuration)),
})

/** The decoded values of kafkaFlags. */
export type KafkaFlagValues = t.TypeOf<t.TypeC<ReturnType<typeof kafkaCodecs>>>
