import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestCertificates } from './certificates.js'
import { cacheDir, freePorts, repoRoot, runToEnd, spawnService, stopChild, waitForPort } from './process.js'

const libsDir = join(cacheDir, 'kafka', 'libs')
const log4jConfig = join(repoRoot, 'services', 'kafka', 'log4j2.properties')

export interface KafkaClusterOptions {
  /** 1 (default): one combined broker/controller. 3: a replicated KRaft quorum of three. */
  readonly brokers?: 1 | 3
  /** Extra or overriding server.properties entries for every broker. */
  readonly config?: Readonly<Record<string, string | number>>
  /** Heap for each broker JVM. */
  readonly heap?: string
  /**
   * More PLAINTEXT listeners, each advertised on ports of the caller's choosing (one per broker):
   * e.g. a TCP proxy per node between the nodes and the brokers. Their real ports are in
   * `listenerPorts`. Clients that bootstrap through one listener get its addresses in metadata.
   */
  readonly extraListeners?: ReadonlyArray<{
    readonly name: string
    readonly advertisedPorts: readonly number[]
  }>
  /** Secured listeners beside PLAINTEXT (which stays, for tests that set things up). */
  readonly secured?: SecuredListenerOptions
}

/**
 * Two secured listeners on every broker: SASL_SSL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN, and
 * OAUTHBEARER with Kafka's unsecured-token validator, which accepts unsigned JWTs) and SSL with
 * client certificates required (mutual TLS). The broker's certificate is `certificates`' broker one.
 */
export interface SecuredListenerOptions {
  readonly certificates: TestCertificates
  /** SCRAM users (both SHA-512 and SHA-256), created when the storage is formatted: name → password. */
  readonly scramUsers: Readonly<Record<string, string>>
  /** PLAIN users: name → password. */
  readonly plainUsers?: Readonly<Record<string, string>>
}

interface BrokerNode {
  readonly id: number
  readonly port: number
  /** Real ports of the extra listeners, by name. */
  readonly listenerPorts: Readonly<Record<string, number>>
  /** Ports of the SASL_SSL and SSL listeners (0 without `secured`). */
  readonly saslSslPort: number
  readonly sslPort: number
  readonly dir: string
  process: ChildProcess | undefined
}

/** A real Apache Kafka cluster in KRaft mode on loopback, with temporary data removed on stop. */
export interface KafkaCluster {
  /** `host:port` of every broker. */
  readonly brokers: readonly string[]
  /** Comma-separated bootstrap list. */
  readonly bootstrap: string
  /** Bootstrap lists of the secured listeners, when the cluster was started with `secured`. */
  readonly secured?: { readonly saslSsl: string; readonly mutualTls: string }
  /** Where the brokers' data and logs are (deleted by stop()). */
  readonly dir: string
  /** Real ports of the extra listeners, by name, one per broker. */
  readonly listenerPorts: Readonly<Record<string, readonly number[]>>
  /** SIGKILL one broker (index 0..n-1); resolves once it is gone. */
  kill(index: number): Promise<void>
  /** Starts a killed broker again on the same port and data; resolves when it accepts connections. */
  restart(index: number): Promise<void>
  /** Stops every broker and deletes the data directory. */
  stop(): Promise<void>
}

/** Throws a message naming what to run when the broker jars or java are missing. */
export function assertKafkaInstalled(): void {
  if (!existsSync(libsDir) || readdirSync(libsDir).length === 0) {
    throw new Error(
      `Kafka broker jars are missing in ${libsDir}. Run 'npm run services:install' (needs Java 17+ and Maven).`,
    )
  }
}

export function clusterId(): string {
  // As Kafka's own Uuid.randomUuid: an id starting with '-' would be read as a flag by the storage
  // tool (1 start in 64 failed with "argument --cluster-id/-t: expected one argument").
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

function serverProperties(
  node: BrokerNode,
  controllerPorts: Map<number, number>,
  size: number,
  options: KafkaClusterOptions,
): string {
  const voters = [...controllerPorts].map(([id, port]) => `${id}@127.0.0.1:${port}`).join(',')
  const extra = options.extraListeners ?? []
  const replication = size === 1 ? 1 : 3
  const secured = options.secured !== undefined
  const advertised = [
    `PLAINTEXT://127.0.0.1:${node.port}`,
    ...(secured ? [`SASL_SSL://127.0.0.1:${node.saslSslPort}`, `SSL://127.0.0.1:${node.sslPort}`] : []),
  ]
  const props: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': voters,
    listeners: [
      ...advertised,
      `CONTROLLER://127.0.0.1:${controllerPorts.get(node.id)}`,
      ...extra.map((l) => `${l.name}://127.0.0.1:${node.listenerPorts[l.name]}`),
    ].join(','),
    'advertised.listeners': [
      ...advertised,
      ...extra.map((l) => `${l.name}://127.0.0.1:${l.advertisedPorts[node.id - 1]}`),
    ].join(','),
    'listener.security.protocol.map': [
      'PLAINTEXT:PLAINTEXT',
      'CONTROLLER:PLAINTEXT',
      ...(secured ? ['SASL_SSL:SASL_SSL', 'SSL:SSL'] : []),
      ...extra.map((l) => `${l.name}:PLAINTEXT`),
    ].join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': join(node.dir, 'data'),
    'auto.create.topics.enable': 'false',
    'num.partitions': 1,
    'default.replication.factor': replication,
    'min.insync.replicas': size === 1 ? 1 : 2,
    'offsets.topic.replication.factor': replication,
    'offsets.topic.num.partitions': 5,
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': size === 1 ? 1 : 2,
    'transaction.state.log.num.partitions': 5,
    'share.coordinator.state.topic.replication.factor': replication,
    'share.coordinator.state.topic.min.isr': size === 1 ? 1 : 2,
    // Tests need quick joins and short sessions; production keeps the broker defaults.
    'group.initial.rebalance.delay.ms': 0,
    'group.min.session.timeout.ms': 1000,
    // The default dedupe buffer is 128 MiB of heap; tests compact tiny topics.
    'log.cleaner.dedupe.buffer.size': 4 * 1024 * 1024,
    'log.cleaner.backoff.ms': 500,
    'broker.session.timeout.ms': size === 1 ? 9000 : 3000,
    'broker.heartbeat.interval.ms': size === 1 ? 2000 : 500,
    ...(options.secured !== undefined && securedProperties(options.secured)),
    ...options.config,
  }
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
}

function jaasQuoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** The properties of the SASL_SSL and SSL listeners (PEM keystore and truststore, no JKS needed). */
function securedProperties(secured: SecuredListenerOptions): Record<string, string> {
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
  const plainUsers = Object.entries(secured.plainUsers ?? {})
    .map(([name, password]) => `user_${name}=${jaasQuoted(password)}`)
    .join(' ')
  return {
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': secured.certificates.brokerKeystore,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': secured.certificates.ca,
    'listener.name.ssl.ssl.client.auth': 'required',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256,PLAIN,OAUTHBEARER',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': scram,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': scram,
    'listener.name.sasl_ssl.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config':
      'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
  }
}

/** StorageTool arguments that create the SCRAM users while formatting (KRaft has no ZooKeeper to hold them). */
function scramArguments(secured: SecuredListenerOptions | undefined): string[] {
  return Object.entries(secured?.scramUsers ?? {}).flatMap(([name, password]) =>
    ['SCRAM-SHA-512', 'SCRAM-SHA-256'].flatMap((mechanism) => [
      '--add-scram',
      `${mechanism}=[name=${name},password=${password}]`,
    ]),
  )
}

function javaArgs(node: BrokerNode, heap: string, mainClass: string, args: string[]): string[] {
  return [
    `-Xmx${heap}`,
    '-Xms64m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jConfig}`,
    `-Dkafka.logs.dir=${node.dir}`,
    '-cp',
    `${libsDir}/*`,
    mainClass,
    ...args,
  ]
}

async function startNode(node: BrokerNode, heap: string): Promise<void> {
  const logFile = join(node.dir, 'stdout.log')
  const child = spawnService(
    'java',
    javaArgs(node, heap, 'kafka.Kafka', [join(node.dir, 'server.properties')]),
    logFile,
  )
  node.process = child
  await waitForPort(node.port, `Kafka broker ${node.id}`, child, 120_000, join(node.dir, 'server.log'))
}

/**
 * Starts a real Kafka cluster (KRaft, loopback, free ports). The first call after install is slower
 * (JVM class loading); later ones reuse the jars in .cache/kafka/libs.
 */
export async function startKafka(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  assertKafkaInstalled()
  const size = options.brokers ?? 1
  const heap = options.heap ?? '512m'
  const dir = mkdtempSync(join(tmpdir(), 'kdp-kafka-'))
  const nodes: BrokerNode[] = []
  const controllerPorts = new Map<number, number>()
  // Every port of the cluster at once, so that no two listeners get the same one.
  const extras = options.extraListeners ?? []
  const ports = await freePorts(size * (2 + extras.length + (options.secured ? 2 : 0)))
  const nextPort = (): number => ports.shift() as number
  for (let id = 1; id <= size; id++) {
    const nodeDir = join(dir, `broker-${id}`)
    mkdirSync(nodeDir, { recursive: true })
    const listenerPorts: Record<string, number> = {}
    for (const listener of extras) listenerPorts[listener.name] = nextPort()
    nodes.push({
      id,
      port: nextPort(),
      listenerPorts,
      saslSslPort: options.secured ? nextPort() : 0,
      sslPort: options.secured ? nextPort() : 0,
      dir: nodeDir,
      process: undefined,
    })
    controllerPorts.set(id, nextPort())
  }
  const id = clusterId()
  try {
    await Promise.all(
      nodes.map(async (node) => {
        const props = join(node.dir, 'server.properties')
        writeFileSync(props, serverProperties(node, controllerPorts, size, options))
        await runToEnd(
          'java',
          javaArgs(node, '256m', 'kafka.tools.StorageTool', [
            'format',
            '-t',
            id,
            '-c',
            props,
            '--ignore-formatted',
            ...scramArguments(options.secured),
          ]),
        )
      }),
    )
    await Promise.all(nodes.map((node) => startNode(node, heap)))
  } catch (error) {
    await Promise.all(nodes.map((n) => (n.process ? stopChild(n.process, 'SIGKILL') : undefined)))
    rmSync(dir, { recursive: true, force: true })
    throw error
  }

  const nodeAt = (index: number): BrokerNode => {
    const node = nodes[index]
    if (!node) throw new Error(`no broker at index ${index} (cluster has ${nodes.length})`)
    return node
  }
  return {
    brokers: nodes.map((n) => `127.0.0.1:${n.port}`),
    bootstrap: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    ...(options.secured !== undefined && {
      secured: {
        saslSsl: nodes.map((n) => `127.0.0.1:${n.saslSslPort}`).join(','),
        mutualTls: nodes.map((n) => `127.0.0.1:${n.sslPort}`).join(','),
      },
    }),
    dir,
    listenerPorts: Object.fromEntries(
      (options.extraListeners ?? []).map((l) => [l.name, nodes.map((n) => n.listenerPorts[l.name]!)]),
    ),
    async kill(index) {
      const node = nodeAt(index)
      if (node.process) await stopChild(node.process, 'SIGKILL')
      node.process = undefined
    },
    async restart(index) {
      const node = nodeAt(index)
      if (node.process) throw new Error(`broker ${node.id} is still running`)
      await startNode(node, heap)
    },
    async stop() {
      await Promise.all(nodes.map((n) => (n.process ? stopChild(n.process, 'SIGTERM', 15_000) : undefined)))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
