/** Summary of repeated measurements, in the unit they were given in. */
export interface Summary {
  readonly n: number
  readonly median: number
  readonly min: number
  readonly max: number
  readonly values: readonly number[]
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('no measurements to summarize')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { n: values.length, median, min: sorted[0]!, max: sorted[sorted.length - 1]!, values }
}

/** `a / b` rounded to two decimals. */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100
}
