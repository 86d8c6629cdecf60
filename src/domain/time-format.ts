/*
 * Every time Tessera shows (pages and mail) goes through here, in the reader's time zone:
 * an agent's own, the desk's for clients and mail. Times are stored and sorted as instants
 * (epoch milliseconds); only their presentation depends on the zone.
 */

/** How a date reads: ISO-like, day first, or month first with a 12-hour clock. */
export const dateStyles = ['iso', 'day-month', 'month-day'] as const
export type DateStyle = typeof dateStyles[number]

export const dateStyleLabels: Readonly<Record<DateStyle, string>> = {
  iso: '2026-11-30 14:50',
  'day-month': '30 Nov 2026, 14:50',
  'month-day': 'Nov 30, 2026, 2:50 PM'
}

export function isDateStyle (value: unknown): value is DateStyle {
  return typeof value === 'string' && (dateStyles as readonly string[]).includes(value)
}

/** The IANA zones this runtime knows, UTC first (Intl lists it under no name of its own). */
export const timeZones: readonly string[] = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')]
const knownZones: ReadonlySet<string> = new Set(timeZones)

export function isTimeZone (value: unknown): value is string {
  return typeof value === 'string' && knownZones.has(value)
}

const styleOptions: Readonly<Record<DateStyle | 'full', [string, Intl.DateTimeFormatOptions]>> = {
  iso: ['en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }],
  'day-month': ['en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }],
  'month-day': ['en-US', { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', hourCycle: 'h12', timeZoneName: 'short' }],
  full: ['en-GB', { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }]
}

// Building an Intl.DateTimeFormat costs far more than using one: one per zone and style,
// kept for the life of the process (zones are checked against the list above first).
// Using one still costs microseconds, and a queue page shows fifty rows with two times
// each, mostly the same instants page after page: no style shows seconds, so each
// formatter also keeps what it wrote for each minute, a bounded number of them.
interface Formatter {
  format: (ms: number) => string
  written: Map<number, string>
  /** The fixed parts of a time element, by instant (see elementParts). */
  elements: Map<number, ElementParts>
}
interface ElementParts { opening: string, absolute: string }
const formatters = new Map<string, Formatter>()
const minutesKept = 20_000

function formatterFor (zone: string, style: DateStyle | 'full'): Formatter {
  const key = `${style} ${zone}`
  let formatter = formatters.get(key)
  if (formatter === undefined) {
    const [locale, options] = styleOptions[style]
    const intl = new Intl.DateTimeFormat(locale, { ...options, timeZone: zone })
    formatter = { format: style === 'iso' ? isoFormat(intl) : (ms) => intl.format(ms), written: new Map(), elements: new Map() }
    formatters.set(key, formatter)
  }
  return formatter
}

function isoFormat (intl: Intl.DateTimeFormat): (ms: number) => string {
  return (ms) => {
    const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {}
    for (const { type, value } of intl.formatToParts(ms)) part[type] = value
    return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${part.timeZoneName}`
  }
}

function write (formatter: Formatter, ms: number): string {
  const minute = Math.floor(ms / 60_000)
  let text = formatter.written.get(minute)
  if (text === undefined) {
    if (formatter.written.size >= minutesKept) formatter.written.clear()
    text = formatter.format(minute * 60_000)
    formatter.written.set(minute, text)
  }
  return text
}

/** The instant as the style writes it in the zone, with the zone's short name: "2026-10-25 02:30 CEST". */
export function formatTime (ms: number, zone: string, style: DateStyle = 'iso'): string {
  return write(formatterFor(zone, style), ms)
}

/** The long form, with the zone's IANA name: "Sunday 25 October 2026 at 02:30 CET (Europe/Berlin)". */
export function formatFullTime (ms: number, zone: string): string {
  return `${write(formatterFor(zone, 'full'), ms)} (${zone})`
}

/** Under a minute, minutes, then hours, for times in the last 12 hours; undefined otherwise. */
export function relativeTime (ms: number, now: number): string | undefined {
  const minutes = Math.floor((now - ms) / 60_000)
  if (minutes < 0 || minutes >= 12 * 60) return undefined
  if (minutes < 1) return 'just now'
  if (minutes < 60) return `${minutes} min ago`
  return `${Math.floor(minutes / 60)} h ago`
}

/** Whose eyes a time is for: their zone and date style, and the app's clock. */
export interface Reader {
  zone: string
  style: DateStyle
  now: () => number
}

/**
 * A <time> element: a recent time reads relatively, others in the reader's style; the
 * exact time in their zone is in the title either way. Built from a number and Intl's
 * output only, so it is safe to output unescaped.
 */
export function timeElement (value: number | string | null, reader: Reader): string {
  if (value === null) return ''
  const ms = Number(value)
  if (!Number.isFinite(ms)) return ''
  const { opening, absolute } = elementParts(ms, reader)
  return `${opening}${relativeTime(ms, reader.now()) ?? absolute}</time>`
}

/**
 * What a time element of this instant holds whenever it is shown, for this reader's zone
 * and style: a queue page shows a hundred of them, the same instants page after page, and
 * writing an ISO date and the long form for each cost a fifth of the page's rendering.
 */
function elementParts (ms: number, { zone, style }: Pick<Reader, 'zone' | 'style'>): ElementParts {
  const formatter = formatterFor(zone, style)
  let parts = formatter.elements.get(ms)
  if (parts === undefined) {
    if (formatter.elements.size >= instantsKept) formatter.elements.clear()
    parts = {
      opening: `<time datetime="${new Date(ms).toISOString()}" title="${formatFullTime(ms, zone)}">`,
      absolute: write(formatter, ms)
    }
    formatter.elements.set(ms, parts)
  }
  return parts
}
const instantsKept = 20_000
