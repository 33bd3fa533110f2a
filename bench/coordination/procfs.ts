// CPU time and memory of another process, read from /proc (Linux), so measuring costs the
// measured process nothing.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100

/** User + system CPU seconds of every thread of `pid` so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may contain spaces): state is the 3rd field of the line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return (utime + stime) / clockTicks
}

/** Resident set size now and its peak (VmHWM), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
}
