import type { Config } from './config.js'

/** Where pino writes: one JSON line per call. */
export interface LogStream { write: (line: string) => void }

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }

// Shown in their own way (or not at all) rather than as key=value pairs.
const shownElsewhere = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'req', 'status', 'ms', 'err', 'reqId'])

/** Text for a person at a terminal, JSON for a log collector (piped, or NODE_ENV=production). */
export function logFormatFor (config: Pick<Config, 'logFormat'>, isTerminal: boolean): 'text' | 'json' {
  if (config.logFormat !== 'auto') return config.logFormat
  return isTerminal ? 'text' : 'json'
}

function clock (time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date()
  return date.toTimeString().slice(0, 8)
}

function shownValue (value: unknown): string {
  return typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
}

/**
 * One pino JSON line as a line a person reads: time, level, message, then the other fields
 * as key=value; a request as "GET /path 200 3.1 ms"; an error with its stack below.
 */
export function textLogLine (json: string): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json.endsWith('\n') ? json : json + '\n'
  }
  const level = levelNames[Number(entry.level)] ?? String(entry.level)
  const parts = [clock(entry.time), level.padEnd(5)]
  const req = entry.req as { method?: string, url?: string } | undefined
  if (req !== undefined && typeof entry.status === 'number') {
    parts.push(`${req.method ?? ''} ${req.url ?? ''} ${entry.status} ${String(entry.ms ?? '')} ms`)
  } else if (typeof entry.msg === 'string') {
    parts.push(entry.msg)
  }
  for (const [key, value] of Object.entries(entry)) {
    if (!shownElsewhere.has(key) && value !== undefined) parts.push(`${key}=${shownValue(value)}`)
  }
  const err = entry.err as { stack?: string, message?: string } | undefined
  const detail = err === undefined ? '' : '\n' + (err.stack ?? err.message ?? JSON.stringify(err)).replace(/^/gm, '    ')
  return parts.join(' ') + detail + '\n'
}

/** A pino destination that writes text lines to `out` (standard output, usually). */
export function textLogStream (out: { write: (text: string) => unknown }): LogStream {
  return { write: (line) => { out.write(textLogLine(line)) } }
}
