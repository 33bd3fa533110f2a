/** Reads `$.a.b[0].c` from a parsed JSON value; undefined when any step is missing. */
export function readJsonPath(value: unknown, path: string): unknown {
  let current: unknown = value
  for (const step of path.slice(1).match(/\.[^.[]+|\[\d+\]/g) ?? []) {
    if (current === null || typeof current !== 'object') return undefined
    const key = step.startsWith('[') ? Number(step.slice(1, -1)) : step.slice(1)
    // Own properties only: `$.constructor` or `$.__proto__` must not read Object.prototype.
    if (!Object.hasOwn(current, key)) return undefined
    current = (current as Record<string | number, unknown>)[key]
  }
  return current
}

export type TimeFormat = 'epoch-s' | 'epoch-ms' | 'epoch-ns' | 'iso'

/** A record time in epoch ms, or the reason it cannot be read. */
export type TimeResult = { ok: true; ms: number } | { ok: false; reason: string }

const earliest = Date.UTC(1970, 0, 1)
const latest = Date.UTC(10000, 0, 1) - 1

// ISO-8601 date or date-time; a missing offset means UTC (never the process's time zone, so that
// every node files a record under the same path).
const isoPattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/

function parseIso(text: string): number {
  const m = isoPattern.exec(text)
  if (!m) return Number.NaN
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', offset = 'Z'] = m
  const utc = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(sec),
    Number(frac.padEnd(3, '0').slice(0, 3)),
  )
  const check = new Date(utc)
  // Reject calendar overflow (Feb 30 would roll into March).
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d)
  )
    return Number.NaN
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return Number.NaN
  if (offset === 'Z') return utc
  const sign = offset.startsWith('-') ? -1 : 1
  const digits = offset.slice(1).replace(':', '')
  return utc - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000
}

/** Interprets a field value as a time in `format`. Numbers may come as numeric strings. */
export function parseTime(value: unknown, format: TimeFormat): TimeResult {
  if (value === undefined || value === null) return { ok: false, reason: 'missing' }
  let ms: number
  if (format === 'iso') {
    if (typeof value !== 'string')
      return { ok: false, reason: `expected an ISO-8601 string, got ${typeof value}` }
    ms = parseIso(value)
    if (Number.isNaN(ms)) return { ok: false, reason: `not an ISO-8601 time: ${JSON.stringify(value)}` }
  } else {
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)
          ? Number(value)
          : Number.NaN
    if (Number.isNaN(n))
      return { ok: false, reason: `expected a number (${format}), got ${JSON.stringify(value)}` }
    ms = format === 'epoch-s' ? n * 1000 : format === 'epoch-ns' ? n / 1e6 : n
  }
  if (!Number.isFinite(ms) || ms < earliest || ms > latest)
    return { ok: false, reason: `not a valid time: ${JSON.stringify(value)}` }
  return { ok: true, ms: Math.floor(ms) }
}
