import { describe, expect, it } from 'vitest'
import type { CliResult } from '../../src/cli/command.js'
import { type ArchiverCliOptions, archiverFlags, parseCli } from '../../src/cli/options.js'
import { parseSize, redactSecrets, resolveSinkUrl, Secret, splitList } from '../../src/cli/values.js'

const required = ['--brokers', 'localhost:9092', '--sink', 'file:///data/archive']
const cwd = '/home/me/work'

function run(argv: readonly string[], env: Record<string, string | undefined> = {}): ArchiverCliOptions {
  const result = parseCli(argv, env, cwd)
  if (result.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(result)}`)
  return result.options
}

function error(argv: readonly string[], env: Record<string, string | undefined> = {}): string {
  const result: CliResult = parseCli(argv, env, cwd)
  if (result.kind !== 'error') throw new Error(`expected an error, got ${result.kind}`)
  return result.message
}

describe('parseCli: defaults and every flag', () => {
  it('fills every default with only the required flags', () => {
    const options = run(required)
    expect(options).toMatchObject({
      brokers: ['localhost:9092'],
      sink: 'file:///data/archive',
      include: ['.*'],
      exclude: [],
      httpPort: 8080,
      httpHost: '127.0.0.1',
      token: undefined,
      cluster: 'kdp',
      nodeId: undefined,
      maxMessagesInFlight: 100_000,
      maxBytesInFlight: 256 * 2 ** 20,
      logLevel: 'info',
      progress: true,
      s3: {},
    })
  })

  it('reads every flag', () => {
    const options = run([
      '--brokers',
      'b1:9092,b2:9093',
      '--brokers=[::1]:9094',
      '--sink',
      's3://my-bucket/kafka/archive',
      '--include',
      'orders-.*,a{1,3}',
      '--include',
      'payments',
      '--exclude',
      '.*-test',
      '--http-port',
      '0',
      '--http-host',
      '0.0.0.0',
      '--http-cors-origin',
      'https://lb.example.com,http://10.0.0.5:8080/',
      '--status-interval',
      '2s',
      '--token',
      'tok-123',
      '--cluster',
      'prod.eu_1',
      '--node-id',
      'node-7',
      '--max-messages-in-flight',
      '5000',
      '--max-bytes-in-flight',
      '1GiB',
      '--log-level',
      'debug',
      '--no-progress',
    ])
    expect(options).toMatchObject({
      brokers: ['b1:9092', 'b2:9093', '[::1]:9094'],
      sink: 's3://my-bucket/kafka/archive',
      include: ['orders-.*', 'a{1,3}', 'payments'],
      exclude: ['.*-test'],
      httpPort: 0,
      httpHost: '0.0.0.0',
      httpCorsOrigins: ['https://lb.example.com', 'http://10.0.0.5:8080'],
      statusIntervalMs: 2000,
      cluster: 'prod.eu_1',
      nodeId: 'node-7',
      maxMessagesInFlight: 5000,
      maxBytesInFlight: 2 ** 30,
      logLevel: 'debug',
      progress: false,
    })
    expect(options.token?.reveal()).toBe('tok-123')
  })

  it.each([
    [['--brokers', 'kafka'], '--brokers', 'expected host:port'],
    [['--brokers', 'kafka:0'], '--brokers', 'port out of range'],
    [['--brokers', 'kafka:99999'], '--brokers', 'port out of range'],
    [['--brokers', 'ka fka:9092'], '--brokers', 'bad host'],
    [['--brokers', '::1:9092'], '--brokers', 'IPv6'],
    [['--brokers', ','], '--brokers', 'at least one'],
    [['--sink', 'http://example.com/x'], '--sink', "unsupported sink scheme 'http://'"],
    [['--sink', 's3://Bad_Bucket/x'], '--sink', 'bucket name'],
    [['--sink', 's3://'], '--sink', 'bucket'],
    [['--sink', 'file://server/share'], '--sink', 'with a host are not supported'],
    [['--sink', 'file:///'], '--sink', 'below /'],
    [['--sink', 'file://~/archive'], '--sink', '~ is not expanded'],
    [['--include', 'orders-(.*'], '--include', 'invalid regular expression "orders-(.*"'],
    [['--include', 'a)|(b'], '--include', 'invalid regular expression'],
    [['--exclude', '[z-a]'], '--exclude', 'invalid regular expression'],
    [['--http-port', '80x'], '--http-port', 'whole number'],
    [['--http-port', '65536'], '--http-port', 'from 0 to 65535'],
    [['--http-port=-1'], '--http-port', 'from 0 to 65535'],
    [['--http-host', 'bad host!'], '--http-host', 'host name or an IP address'],
    [['--http-cors-origin', 'https://lb.example.com/dashboard'], '--http-cors-origin', 'expected origins'],
    [['--http-cors-origin', 'ftp://x'], '--http-cors-origin', 'expected origins'],
    [['--status-interval', '50ms'], '--status-interval', 'from 200ms to 1m'],
    [['--status-interval', 'soon'], '--status-interval', 'expected a duration'],
    [['--token', 'has space'], '--token', 'printable characters'],
    [['--cluster', 'a/b'], '--cluster', 'A-Z a-z 0-9 . _ -'],
    [['--node-id=-lead'], '--node-id', 'starting with a letter or digit'],
    [['--max-messages-in-flight', '0'], '--max-messages-in-flight', 'from 1 to'],
    [['--max-messages-in-flight', '1.5'], '--max-messages-in-flight', 'whole number'],
    [['--max-bytes-in-flight', '256 parsecs'], '--max-bytes-in-flight', 'expected a size'],
    [['--max-bytes-in-flight', '0MiB'], '--max-bytes-in-flight', 'at least 1 byte'],
    [['--log-level', 'verbose'], '--log-level', 'debug, info, warn, error, silent'],
  ])('rejects %j naming %s', (bad, flag, reason) => {
    // --brokers may be repeated (and adds up): leave the good one out when testing a bad one.
    const base =
      flag === '--brokers' ? ['--sink', 'file:///x'] : flag === '--sink' ? ['--brokers', 'k:1'] : required
    const argv = [...base, ...bad]
    const message = error(argv)
    expect(message).toContain(`kdp-archiver: invalid ${flag}: `)
    expect(message).toContain(reason)
    expect(message.split('\n').at(-1)).toBe("Run 'kdp-archiver --help' for usage.")
  })

  it('never echoes a rejected token', () => {
    const message = error([...required, '--token', 'secret value'])
    expect(message).toContain('invalid --token')
    expect(message).not.toContain('secret value')
  })

  it('reports every bad flag at once, one line each', () => {
    const message = error(['--brokers', 'x', '--sink', 'ftp://y', '--http-port', 'z'])
    const lines = message.split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[0]).toContain('--brokers')
    expect(lines[1]).toContain('--sink')
    expect(lines[2]).toContain('--http-port')
  })
})

describe('parseCli: environment', () => {
  const env = {
    KDP_BROKERS: 'e1:9092,e2:9092',
    KDP_SINK: 's3://env-bucket',
    KDP_INCLUDE: 'env-.*',
    KDP_EXCLUDE: 'env-test',
    KDP_HTTP_PORT: '9000',
    KDP_HTTP_HOST: 'localhost',
    KDP_TOKEN: 'env-token',
    KDP_CLUSTER: 'envc',
    KDP_NODE_ID: 'env-node',
    KDP_MAX_MESSAGES_IN_FLIGHT: '42',
    KDP_MAX_BYTES_IN_FLIGHT: '64MB',
    KDP_LOG_LEVEL: 'warn',
    KDP_NO_PROGRESS: 'true',
  }

  it('falls back to every environment variable', () => {
    const options = run([], env)
    expect(options).toMatchObject({
      brokers: ['e1:9092', 'e2:9092'],
      sink: 's3://env-bucket',
      include: ['env-.*'],
      exclude: ['env-test'],
      httpPort: 9000,
      httpHost: 'localhost',
      cluster: 'envc',
      nodeId: 'env-node',
      maxMessagesInFlight: 42,
      maxBytesInFlight: 64_000_000,
      logLevel: 'warn',
      progress: false,
    })
    expect(options.token?.reveal()).toBe('env-token')
  })

  it('lets flags win over the environment', () => {
    const options = run(
      [
        '--brokers',
        'f:1',
        '--sink',
        'file:///f',
        '--include',
        'f',
        '--exclude',
        'g',
        '--http-port',
        '1',
        '--http-host',
        '::1',
        '--token',
        'flag-token',
        '--cluster',
        'fc',
        '--node-id',
        'fn',
        '--max-messages-in-flight',
        '7',
        '--max-bytes-in-flight',
        '1KiB',
        '--log-level',
        'error',
      ],
      { ...env, KDP_NO_PROGRESS: 'false' },
    )
    expect(options).toMatchObject({
      brokers: ['f:1'],
      sink: 'file:///f',
      include: ['f'],
      exclude: ['g'],
      httpPort: 1,
      httpHost: '::1',
      cluster: 'fc',
      nodeId: 'fn',
      maxMessagesInFlight: 7,
      maxBytesInFlight: 1024,
      logLevel: 'error',
      progress: true,
    })
    expect(options.token?.reveal()).toBe('flag-token')
    expect(run(['--no-progress'], { ...env, KDP_NO_PROGRESS: '0' }).progress).toBe(false)
  })

  it('names the environment variable a bad value came from', () => {
    expect(error([], { ...env, KDP_HTTP_PORT: 'eighty' })).toContain(
      'invalid --http-port (from KDP_HTTP_PORT): expected a whole number, got "eighty"',
    )
    expect(error([], { ...env, KDP_NO_PROGRESS: 'maybe' })).toContain('--no-progress (from KDP_NO_PROGRESS)')
    expect(error([], { ...env, KDP_INCLUDE: '(' })).toContain('--include (from KDP_INCLUDE)')
    // The flag's value replaces the bad variable, so it is not checked.
    expect(run(['--http-port', '81'], { ...env, KDP_HTTP_PORT: 'eighty' }).httpPort).toBe(81)
  })

  it('treats an empty variable as unset', () => {
    expect(run(required, { KDP_HTTP_PORT: '', KDP_TOKEN: '' })).toMatchObject({
      httpPort: 8080,
      token: undefined,
    })
  })

  it('names the flag and its variable when a required value is missing', () => {
    const message = error([])
    expect(message).toContain('missing --brokers (or KDP_BROKERS, or kafka.brokers in the config file)')
    expect(message).toContain('missing --sink (or KDP_SINK, or sink in the config file)')
  })

  it('checks the S3 variables too', () => {
    const message = error(required, { KDP_S3_ENDPOINT: 'not a url', KDP_S3_SSE: 'rot13' })
    expect(message).toContain('invalid KDP_S3_ENDPOINT')
    expect(message).toContain('invalid KDP_S3_SSE')
    expect(
      run(required, { KDP_S3_ENDPOINT: 'http://127.0.0.1:9000', KDP_S3_FORCE_PATH_STYLE: 'true' }).s3,
    ).toMatchObject({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true })
  })
})

describe('parseCli: the command line itself', () => {
  it('refuses an unknown flag, suggesting the closest one', () => {
    expect(error([...required, '--brokerz', 'x'])).toBe(
      "kdp-archiver: unknown option '--brokerz' (did you mean --brokers?)\nRun 'kdp-archiver --help' for usage.",
    )
    expect(error([...required, '--verbose'])).toBe(
      "kdp-archiver: unknown option '--verbose'\nRun 'kdp-archiver --help' for usage.",
    )
    expect(error([...required, '-x'])).toContain("unknown option '-x'")
  })

  it('refuses positional arguments, missing values and values of boolean flags', () => {
    expect(error([...required, 'extra'])).toContain("unexpected argument 'extra'")
    expect(error(['--sink', 'file:///x', '--brokers'])).toContain('--brokers needs a value')
    expect(error(['--brokers', '--sink', 'file:///x'])).toContain('--brokers needs a value')
    expect(error([...required, '--no-progress=yes'])).toContain('--no-progress takes no value')
  })

  it('answers --help and -h with the help text, even next to bad flags', () => {
    for (const argv of [['--help'], ['-h'], ['--bogus', '--help'], ['--http-port', 'x', '-h']]) {
      const result = parseCli(argv, {}, cwd)
      expect(result.kind).toBe('help')
    }
    expect(parseCli(['--version'], {}, cwd)).toEqual({
      kind: 'version',
      text: expect.stringMatching(/^kdp-archiver \d+\.\d+\.\d+\n$/),
    })
  })

  it('documents every flag with its environment variable and default', () => {
    const result = parseCli(['--help'], {}, cwd)
    if (result.kind !== 'help') throw new Error('no help')
    for (const spec of archiverFlags) {
      // A setting without a flag (a password) is documented by its variable.
      expect(result.text).toContain(spec.cli === false ? `${spec.env}` : `--${spec.name}`)
      if (spec.env !== undefined) expect(result.text).toContain(spec.env)
      if (spec.defaultText !== undefined) expect(result.text).toContain(`default ${spec.defaultText}`)
    }
    for (const name of ['KDP_S3_ENDPOINT', 'AWS_REGION', 'Examples:', '-h, --help']) {
      expect(result.text).toContain(name)
    }
  })
})

describe('sink URLs', () => {
  it.each([
    ['s3://bucket-1', 's3://bucket-1'],
    ['s3://bucket-1/a/b', 's3://bucket-1/a/b'],
    ['file:///data/archive', 'file:///data/archive'],
    ['file:///data/archive/', 'file:///data/archive'],
    ['file://localhost/data', 'file:///data'],
    ['file://./archive', 'file:///home/me/work/archive'],
    ['file://../archive', 'file:///home/me/archive'],
    ['file://archive', 'file:///home/me/work/archive'],
    ['archive', 'file:///home/me/work/archive'],
    ['./a b', 'file:///home/me/work/a%20b'],
    ['/abs/dir', 'file:///abs/dir'],
  ])('%s → %s', (input, url) => {
    expect(resolveSinkUrl(input, cwd)).toEqual({ ok: url })
    expect(run(['--brokers', 'k:1', '--sink', input]).sink).toBe(url)
  })
})

describe('helpers', () => {
  it.each([
    ['268435456', 268_435_456],
    ['256MiB', 256 * 2 ** 20],
    ['1GiB', 2 ** 30],
    ['1.5 GiB', 1.5 * 2 ** 30],
    ['64MB', 64e6],
    ['512kib', 512 * 1024],
    ['10b', 10],
    ['1_000', 1000],
  ])('size %s = %d bytes', (text, bytes) => {
    expect(parseSize(text)).toEqual({ ok: bytes })
  })

  it.each(['', 'MiB', '-1MiB', '1 PiB', '1e3', 'lots'])('size %j is refused', (text) => {
    expect(parseSize(text)).toHaveProperty('reason')
  })

  it('splits lists on top-level commas only', () => {
    expect(splitList('a,b{1,3},[x,y],(p|q),c\\,d, ,e')).toEqual([
      'a',
      'b{1,3}',
      '[x,y]',
      '(p|q)',
      'c\\,d',
      'e',
    ])
  })

  it('keeps the token out of every printed form', () => {
    const secret = new Secret('hunter2')
    expect(String(secret)).toBe('[redacted]')
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}')
    expect(`${secret}`).not.toContain('hunter2')
    const options = run([...required, '--token', 'hunter2'])
    expect(JSON.stringify(options)).not.toContain('hunter2')
    expect(secret.reveal()).toBe('hunter2')
  })

  it('redacts secrets quoted by messages raised elsewhere', () => {
    const secrets = [new Secret('hunter2'), undefined, new Secret('abc')]
    expect(redactSecrets('login hunter2 failed (hunter2)', secrets)).toBe(
      'login [redacted] failed ([redacted])',
    )
    // Values too short to be told apart from words are left alone.
    expect(redactSecrets('abc def', secrets)).toBe('abc def')
  })
})
