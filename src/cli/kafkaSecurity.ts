// From checked CLI settings to the library's Kafka connection options: the one place the CLIs
// reveal their Kafka secrets, build the OAUTHBEARER token sources and say how they connect.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { promisify } from 'node:util'
import { CredentialsError, type KafkaSecurity, mskIamSasl, type SaslOptions } from '../kafka/index.js'
import { messageOf } from '../util/errors.js'
import type { KafkaCliSettings } from './kafkaSettings.js'
import type { Secret } from './values.js'

const run = promisify(execFile)

/** How long a token command may take. */
const tokenCommandTimeoutMs = 30_000

/** Runs the token command with the shell; its standard output, trimmed, is the token. */
async function tokenFromCommand(command: string): Promise<string> {
  let stdout: string
  try {
    ;({ stdout } = await run('/bin/sh', ['-c', command], {
      timeout: tokenCommandTimeoutMs,
      maxBuffer: 1 << 20,
    }))
  } catch (error) {
    // Neither the command (it may hold a secret) nor its output (it may be the token) is shown:
    // the exit code or signal, and the first line of its error output, which says why.
    const { code, signal, stderr } = error as { code?: unknown; signal?: unknown; stderr?: unknown }
    const how =
      typeof code === 'number' ? `exit code ${code}` : typeof signal === 'string' ? signal : messageOf(error)
    const why =
      String(stderr ?? '')
        .trim()
        .split('\n')[0] ?? ''
    throw new CredentialsError(`the token command failed (${how})${why ? `: ${why}` : ''}`)
  }
  const token = stdout.trim()
  if (token === '') throw new CredentialsError('the token command printed no token')
  return token
}

async function tokenFromFile(path: string): Promise<string> {
  let token: string
  try {
    token = (await readFile(path, 'utf8')).trim()
  } catch (error) {
    throw new CredentialsError(`cannot read the token file: ${messageOf(error)}`)
  }
  if (token === '') throw new CredentialsError(`the token file ${path} is empty`)
  return token
}

function sasl(settings: NonNullable<KafkaCliSettings['sasl']>): SaslOptions {
  switch (settings.mechanism) {
    case 'aws-msk-iam':
      return mskIamSasl({ region: settings.region })
    case 'oauthbearer': {
      const { tokenCommand, tokenFile } = settings
      return {
        mechanism: 'oauthbearer',
        token: () =>
          tokenCommand !== undefined ? tokenFromCommand(tokenCommand) : tokenFromFile(tokenFile?.path ?? ''),
      }
    }
    default:
      return {
        mechanism: settings.mechanism,
        username: settings.username,
        password: settings.password.reveal(),
      }
  }
}

function tls(settings: Exclude<KafkaCliSettings['tls'], false>): TlsOptions {
  return {
    ...(settings.ca && { ca: settings.ca.text.reveal() }),
    ...(settings.cert && { cert: settings.cert.text.reveal() }),
    ...(settings.key && { key: settings.key.text.reveal() }),
    ...(settings.keyPassword && { passphrase: settings.keyPassword.reveal() }),
    ...(settings.insecure && { rejectUnauthorized: false }),
  }
}

/** The library's connection options (TLS, SASL, timeouts) for every Kafka connection of a command. */
export function kafkaSecurity(settings: KafkaCliSettings): KafkaSecurity {
  return {
    ...(settings.tls !== false && { ssl: tls(settings.tls) }),
    ...(settings.sasl !== undefined && { sasl: sasl(settings.sasl) }),
    ...(settings.connectionTimeoutMs !== undefined && { connectionTimeoutMs: settings.connectionTimeoutMs }),
    ...(settings.requestTimeoutMs !== undefined && { requestTimeoutMs: settings.requestTimeoutMs }),
  }
}

/** `TLS (CA /etc/kdp/ca.pem, client certificate), SASL scram-sha-512 as alice` for the startup line; no secret. */
export function describeKafka(settings: KafkaCliSettings): string {
  const parts: string[] = []
  if (settings.tls === false) parts.push('no TLS')
  else {
    const notes = [
      ...(settings.tls.insecure ? ['certificates NOT verified'] : []),
      ...(settings.tls.ca ? [`CA ${settings.tls.ca.path}`] : []),
      ...(settings.tls.cert ? ['client certificate'] : []),
    ]
    parts.push(notes.length > 0 ? `TLS (${notes.join(', ')})` : 'TLS')
  }
  const sasl = settings.sasl
  if (sasl === undefined) parts.push('no SASL')
  else if (sasl.mechanism === 'aws-msk-iam') parts.push(`SASL aws-msk-iam in ${sasl.region}`)
  else if (sasl.mechanism === 'oauthbearer')
    parts.push(
      `SASL oauthbearer (token from ${sasl.tokenCommand !== undefined ? 'a command' : sasl.tokenFile?.path})`,
    )
  else parts.push(`SASL ${sasl.mechanism} as ${sasl.username}`)
  return parts.join(', ')
}

/** Every secret of the settings, for redactSecrets. */
export function kafkaSecrets(settings: KafkaCliSettings): Secret[] {
  const tls = settings.tls === false ? [] : [settings.tls.key?.text, settings.tls.keyPassword]
  const sasl = settings.sasl
  const password = sasl !== undefined && 'password' in sasl ? [sasl.password] : []
  return [...tls, ...password].filter((secret): secret is Secret => secret !== undefined)
}

/** The warning a node logs at startup when it does not verify the brokers' certificates. */
export function insecureWarning(settings: KafkaCliSettings): string | undefined {
  return settings.tls !== false && settings.tls.insecure
    ? "--tls-insecure: the brokers' TLS certificates are NOT verified; anyone on the network path can read and change the traffic"
    : undefined
}
