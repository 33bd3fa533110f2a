// A live status line redrawn in place on a terminal, and the helpers the CLIs use to show numbers.
import type { LogFields, Logger, LogLevel } from '../util/logging.js'

const levelRank: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 }

/** Counts per second over a sliding window, from samples of a growing total. */
export class RateMeter {
  readonly #samples: Array<{ at: number; total: number }> = []

  constructor(private readonly windowMs = 5000) {}

  /** Records the total at `at` (ms) and returns the rate per second over the window. */
  sample(total: number, at: number = performance.now()): number {
    this.#samples.push({ at, total })
    while (this.#samples.length > 2 && at - (this.#samples[1]?.at ?? at) >= this.windowMs)
      this.#samples.shift()
    const first = this.#samples[0]
    if (!first || at <= first.at) return 0
    return ((total - first.total) * 1000) / (at - first.at)
  }
}

/** `12,345` */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** `1.23 MB/s` (decimal megabytes) */
export function formatMegabytesPerSecond(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(2)} MB/s`
}

/**
 * A line on a terminal stream, redrawn every `intervalMs` with `render()`. Log lines written through
 * `wrap(logger)` erase it first and redraw it after, so the two never mix on one line. Use it only
 * when the stream is a TTY.
 */
export class StatusLine {
  #timer: NodeJS.Timeout | undefined
  #shown = false

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly render: () => string,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    if (this.#timer) return
    this.draw()
    this.#timer = setInterval(() => this.draw(), this.intervalMs)
    this.#timer.unref()
  }

  draw(): void {
    const columns = this.stream.columns || 120
    // A line longer than the terminal wraps, and \r then only returns to its last row.
    const text = this.render().slice(0, Math.max(10, columns - 1))
    this.stream.write(`\r\x1b[2K${text}`)
    this.#shown = true
  }

  clear(): void {
    if (!this.#shown) return
    this.stream.write('\r\x1b[2K')
    this.#shown = false
  }

  /** Stops redrawing and erases the line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    this.clear()
  }

  /**
   * A logger that erases the line before each log line and redraws it after. `level` is the
   * logger's own level: calls below it write nothing, so they leave the line alone.
   */
  wrap(logger: Logger, level: LogLevel = 'debug'): Logger {
    const threshold = levelRank[level]
    const around =
      (write: (message: string, fields?: LogFields) => void, rank: number) =>
      (message: string, fields?: LogFields): void => {
        const redraw = rank >= threshold && this.#timer !== undefined && this.#shown
        if (redraw) this.clear()
        write(message, fields)
        if (redraw) this.draw()
      }
    return {
      debug: around((m, f) => logger.debug(m, f), levelRank.debug),
      info: around((m, f) => logger.info(m, f), levelRank.info),
      warn: around((m, f) => logger.warn(m, f), levelRank.warn),
      error: around((m, f) => logger.error(m, f), levelRank.error),
      child: (bindings) => this.wrap(logger.child(bindings), level),
    }
  }
}

/** Human-readable bytes for help texts and progress lines: `256 MiB`, `1.5 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const digits = unit === 0 || Number.isInteger(value) ? 0 : 1
  return `${value.toFixed(digits)} ${units[unit]}`
}
