import { DateTime } from 'luxon'

/*
 * Business-hours arithmetic for SLA clocks, as pure functions of instants (epoch ms).
 * Local days are walked in the schedule's IANA time zone with luxon, which knows each
 * zone's DST rules: a window that spans a DST change is as long as the wall clock says
 * (an hour shorter or longer), and a window edge in a skipped hour is read as that much
 * after the change (2:30 on a spring-forward night is 3:30), as JavaScript's Date does. A null schedule is "around the clock".
 */

/** A window of one weekday, in minutes after local midnight: [start, end). */
export type Window = readonly [number, number]

export interface Schedule {
  /** An IANA zone, e.g. Europe/Berlin. */
  readonly timeZone: string
  /** Windows per ISO weekday: 1 is Monday, 7 is Sunday. */
  readonly windows: Readonly<Partial<Record<number, readonly Window[]>>>
  /** Local dates without business hours, as YYYY-MM-DD. */
  readonly holidays: ReadonlySet<string>
}

const minuteMs = 60_000
/** A schedule must give some hours within this many days, or it is refused. */
const maxDaysWithoutHours = 400

export function isTimeZone (zone: string): boolean {
  return zone !== '' && DateTime.now().setZone(zone).isValid
}

/** Whether the schedule has any hours at all (otherwise no target could ever be reached). */
export function hasHours (schedule: Schedule): boolean {
  return Object.values(schedule.windows).some((windows) => (windows ?? []).some(([start, end]) => end > start))
}

/** The business intervals of one local day, as epoch ms, in order. */
function dayIntervals (schedule: Schedule, day: DateTime): Array<[number, number]> {
  if (schedule.holidays.has(day.toISODate() ?? '')) return []
  const intervals: Array<[number, number]> = []
  for (const [start, end] of schedule.windows[day.weekday] ?? []) {
    if (end <= start) continue
    const at = (minutes: number): number => minutes >= 1440
      ? day.plus({ days: 1 }).startOf('day').toMillis()
      : day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 }).toMillis()
    const from = at(start)
    const to = at(end)
    if (to > from) intervals.push([from, to])
  }
  return intervals.sort((a, b) => a[0] - b[0])
}

/** One local day of a schedule: when it starts, when the next one does, and its business intervals. */
interface LocalDay { start: number, next: number, intervals: ReadonlyArray<readonly [number, number]> }

/** Days a calendar keeps at most before it starts again (they are small; this bounds a long-running server). */
const keptDaysAtMost = 1000

/**
 * A schedule's local days, worked out with luxon once each and then kept: new tickets
 * opened the same week walk the same few days for each of their targets, and luxon's
 * date arithmetic was most of the cost of opening a ticket under an SLA plan.
 */
class Calendar {
  private readonly byStart = new Map<number, LocalDay>()
  /** The day the last walk began in: most walks begin in the same day as the one before. */
  private recent: LocalDay | undefined

  constructor (private readonly schedule: Schedule) {}

  containing (at: number): LocalDay {
    const recent = this.recent
    if (recent !== undefined && recent.start <= at && at < recent.next) return recent
    this.recent = this.dayOf(DateTime.fromMillis(at, { zone: this.schedule.timeZone }).startOf('day'))
    return this.recent
  }

  after (day: LocalDay): LocalDay {
    return this.byStart.get(day.next) ?? this.dayOf(DateTime.fromMillis(day.next, { zone: this.schedule.timeZone }).startOf('day'))
  }

  private dayOf (start: DateTime): LocalDay {
    const known = this.byStart.get(start.toMillis())
    if (known !== undefined) return known
    if (this.byStart.size >= keptDaysAtMost) this.byStart.clear()
    const day = { start: start.toMillis(), next: start.plus({ days: 1 }).startOf('day').toMillis(), intervals: dayIntervals(this.schedule, start) }
    this.byStart.set(day.start, day)
    return day
  }
}

// A schedule is read-only, so its days can be kept as long as it lives (see scheduleOf).
const calendars = new WeakMap<Schedule, Calendar>()

/** Calls `visit` with each business interval from the local day of `from` on, until it returns true. */
function walk (schedule: Schedule, from: number, visit: (start: number, end: number) => boolean): void {
  let calendar = calendars.get(schedule)
  if (calendar === undefined) {
    calendar = new Calendar(schedule)
    calendars.set(schedule, calendar)
  }
  let day = calendar.containing(from)
  let idle = 0
  for (;;) {
    idle = day.intervals.length === 0 ? idle + 1 : 0
    if (idle > maxDaysWithoutHours) throw new Error('The schedule has no business hours')
    for (const [start, end] of day.intervals) {
      if (end <= from) continue
      if (visit(Math.max(start, from), end)) return
    }
    day = calendar.after(day)
  }
}

/** The instant `minutes` business minutes after `from` (from itself for 0 or less). */
export function addBusinessMinutes (schedule: Schedule | null, from: number, minutes: number): number {
  if (minutes <= 0) return from
  if (schedule === null) return from + minutes * minuteMs
  let left = minutes * minuteMs
  let result = from
  walk(schedule, from, (start, end) => {
    if (end - start >= left) {
      result = start + left
      return true
    }
    left -= end - start
    return false
  })
  return result
}

/** Business minutes from `from` to `to`; negative when `to` comes first. */
export function businessMinutesBetween (schedule: Schedule | null, from: number, to: number): number {
  if (to < from) return -businessMinutesBetween(schedule, to, from)
  if (schedule === null) return (to - from) / minuteMs
  let total = 0
  walk(schedule, from, (start, end) => {
    if (start >= to) return true
    total += Math.min(end, to) - start
    return end >= to
  })
  return total / minuteMs
}
