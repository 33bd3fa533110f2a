// The Kafka settings checked together: a SASL mechanism and what it needs, TLS files that belong
// together. Every problem names each way to give the settings involved.
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { messageOf } from '../util/errors.js'
import { type KafkaFlagValues, kafkaFlags, type SettingFile } from './kafkaOptions.js'
import { UsageError, waysToGive } from './layers.js'
import { Secret } from './values.js'

/** How a command connects to Kafka, checked: what `kafkaSecurity` turns into the library's options. */
export interface KafkaCliSettings {
  readonly tls:
    | false
    | {
        readonly ca: SettingFile | undefined
        readonly cert: SettingFile | undefined
        readonly key: SettingFile | undefined
        readonly keyPassword: Secret | undefined
        readonly insecure: boolean
      }
  readonly sasl:
    | undefined
    | {
        readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
        readonly username: string
        readonly password: Secret
      }
    | {
        readonly mechanism: 'oauthbearer'
        readonly tokenCommand: string | undefined
        readonly tokenFile: SettingFile | undefined
      }
    | { readonly mechanism: 'aws-msk-iam'; readonly region: string }
  readonly connectionTimeoutMs: number | undefined
  readonly requestTimeoutMs: number | undefined
}

/** The spec of a setting, for messages naming every way to give it. */
function named(name: string): string {
  const spec = kafkaFlags.find((s) => s.name === name)
  return spec ? waysToGive(spec) : name
}

function clientKey(key: SettingFile, passphrase: Secret | undefined): ReturnType<typeof createPrivateKey> {
  try {
    return createPrivateKey({
      key: key.text.reveal(),
      ...(passphrase && { passphrase: passphrase.reveal() }),
    })
  } catch (error) {
    // Node's message names the cause (a missing or wrong passphrase, a bad format), never the key.
    throw new UsageError([`invalid ${named('tls-key')}: ${key.path}: ${messageOf(error)}`])
  }
}

function tlsSettings(v: KafkaFlagValues, implied: boolean): KafkaCliSettings['tls'] {
  const problems: string[] = []
  const enabled =
    v.tls ||
    implied ||
    [v['tls-ca'], v['tls-cert'], v['tls-key']].some((f) => f !== undefined) ||
    v['tls-insecure']
  if (!enabled) return false
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined))
    problems.push(`mutual TLS needs both ${named('tls-cert')} and ${named('tls-key')}`)
  if (v['tls-insecure'] && v['tls-ca'] !== undefined)
    problems.push(
      `${named('tls-insecure')} skips the verification that ${named('tls-ca')} is for: give one of them`,
    )
  if (v['tls-key-password'] !== undefined && v['tls-key'] === undefined)
    problems.push(`${named('tls-key-password')} is set but there is no ${named('tls-key')}`)
  if (problems.length > 0) throw new UsageError(problems)
  const cert = v['tls-cert']
  const key = v['tls-key']
  if (cert !== undefined && key !== undefined) {
    const privateKey = clientKey(key, v['tls-key-password'])
    if (!new X509Certificate(cert.text.reveal()).checkPrivateKey(privateKey))
      throw new UsageError([
        `the key ${key.path} does not belong to the certificate ${cert.path} (--tls-key, --tls-cert)`,
      ])
  }
  return { ca: v['tls-ca'], cert, key, keyPassword: v['tls-key-password'], insecure: v['tls-insecure'] }
}

function saslSettings(
  v: KafkaFlagValues,
  env: Readonly<Record<string, string | undefined>>,
): KafkaCliSettings['sasl'] {
  const mechanism = v['sasl-mechanism']
  const given = (names: readonly (keyof KafkaFlagValues)[]) => names.filter((name) => v[name] !== undefined)
  const onlyFor = (names: readonly (keyof KafkaFlagValues)[], what: string) =>
    given(names).map((name) => `${named(name)} is only for ${what}`)
  const userSettings = ['sasl-username', 'sasl-password', 'sasl-password-file'] as const
  const tokenSettings = ['sasl-token-command', 'sasl-token-file'] as const
  if (mechanism === undefined) {
    const set = given([...userSettings, ...tokenSettings, 'sasl-aws-region'])
    if (set.length > 0)
      throw new UsageError(set.map((name) => `${named(name)} is set but ${named('sasl-mechanism')} is not`))
    return undefined
  }
  if (mechanism === 'oauthbearer') {
    const problems = onlyFor([...userSettings, 'sasl-aws-region'], 'plain and scram-*')
    if (given(tokenSettings).length !== 1)
      problems.push(`oauthbearer needs one of ${named('sasl-token-command')} and ${named('sasl-token-file')}`)
    if (problems.length > 0) throw new UsageError(problems)
    return { mechanism, tokenCommand: v['sasl-token-command'], tokenFile: v['sasl-token-file'] }
  }
  if (mechanism === 'aws-msk-iam') {
    const problems = onlyFor([...userSettings, ...tokenSettings], 'other mechanisms')
    const region = v['sasl-aws-region'] ?? (env.AWS_REGION?.trim() || undefined)
    if (region === undefined)
      problems.push(`aws-msk-iam needs the cluster's region: ${named('sasl-aws-region')} or AWS_REGION`)
    if (problems.length > 0 || region === undefined) throw new UsageError(problems)
    return { mechanism, region }
  }
  const problems = onlyFor([...tokenSettings, 'sasl-aws-region'], 'other mechanisms')
  const username = v['sasl-username']
  if (username === undefined) problems.push(`${mechanism} needs ${named('sasl-username')}`)
  const passwords = given(['sasl-password', 'sasl-password-file'])
  if (passwords.length !== 1)
    problems.push(
      passwords.length === 0
        ? `${mechanism} needs a password: ${named('sasl-password')} or ${named('sasl-password-file')}`
        : `give the password once: ${named('sasl-password')} and ${named('sasl-password-file')} are both set`,
    )
  if (problems.length > 0 || username === undefined) throw new UsageError(problems)
  const file = v['sasl-password-file']
  const password = file ? new Secret(file.text.reveal().replace(/\r?\n$/, '')) : v['sasl-password']
  if (password === undefined) throw new UsageError([`${mechanism} needs a password`])
  return { mechanism, username, password }
}

/** Checks the Kafka settings together (a mechanism and what it needs); throws a UsageError naming the settings. */
export function kafkaSettings(
  v: KafkaFlagValues,
  env: Readonly<Record<string, string | undefined>>,
): KafkaCliSettings {
  const problems: string[] = []
  const attempt = <A>(make: () => A): A | undefined => {
    try {
      return make()
    } catch (error) {
      if (!(error instanceof UsageError)) throw error
      problems.push(...error.lines)
      return undefined
    }
  }
  const sasl = attempt(() => saslSettings(v, env))
  // MSK IAM listeners are TLS-only (port 9098).
  const tls = attempt(() => tlsSettings(v, v['sasl-mechanism'] === 'aws-msk-iam'))
  if (problems.length > 0 || tls === undefined) throw new UsageError(problems)
  return {
    tls,
    sasl,
    connectionTimeoutMs: v['kafka-connection-timeout'],
    requestTimeoutMs: v['kafka-request-timeout'],
  }
}
