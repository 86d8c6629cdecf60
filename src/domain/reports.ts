import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import {
  histogramBuckets, reportCounters, reportDimensions, sumBacklogBefore, sumReportByDay, sumReportByKey,
  type ReportCounter, type ReportDimension, type ReportRange, type ReportSums
} from '../data/reports.js'
import { bucketEdges } from './report-counts.js'
import { scoreDepartments } from './survey.js'

/*
 * The reports page's numbers, read from the daily counters (src/domain/report-counts.ts)
 * over a range of UTC days. Managers see the departments they manage, administrators all:
 * the same rule as the satisfaction scores.
 */

export const groupings = ['day', 'week'] as const
export type Grouping = typeof groupings[number]
export const breakdowns = reportDimensions
export type Breakdown = ReportDimension

/** The longest range a report covers, in days. */
export const maxRangeDays = 731
/** The range shown when none is chosen, ending today. */
export const defaultRangeDays = 30

export interface ReportParams { from?: string, to?: string, group?: string, by?: string }

export interface ReportQuery {
  fromDay: number
  toDay: number
  group: Grouping
  by: Breakdown
}

const dayMs = 86_400_000

/** A YYYY-MM-DD date as whole days since 1970-01-01; undefined when it is not a real date. */
export function dayOfDate (date: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  if (!match) return undefined
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const ms = Date.UTC(year, month - 1, day)
  const back = new Date(ms)
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return undefined
  return ms / dayMs
}

export function dateOfDay (day: number): string {
  return new Date(day * dayMs).toISOString().slice(0, 10)
}

/** The date it is now in the reader's time zone, as YYYY-MM-DD. */
export function todayIn (zone: string, now: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

export interface ParsedReportParams {
  query: ReportQuery
  /** The form's values as given (or defaulted), to show again. */
  values: { from: string, to: string, group: Grouping, by: Breakdown }
  errors: Partial<Record<'from' | 'to', string>>
}

/** The report the address asks for; the last 30 days to `today` (the reader's date) by default. */
export function parseReportParams (params: ReportParams, today: string): ParsedReportParams {
  const todayDay = dayOfDate(today) ?? 0
  const group = (groupings as readonly string[]).includes(params.group ?? '') ? params.group as Grouping : 'day'
  const by = (breakdowns as readonly string[]).includes(params.by ?? '') ? params.by as Breakdown : 'department'
  const to = (params.to ?? '').trim() || today
  const from = (params.from ?? '').trim() || dateOfDay(todayDay - defaultRangeDays + 1)
  const errors: ParsedReportParams['errors'] = {}
  const fromDay = dayOfDate(from)
  const toDay = dayOfDate(to)
  if (fromDay === undefined) errors.from = 'Enter the first day as a date, like 2026-11-01.'
  if (toDay === undefined) errors.to = 'Enter the last day as a date, like 2026-11-30.'
  if (fromDay !== undefined && toDay !== undefined) {
    if (toDay < fromDay) errors.to = 'The last day must not come before the first.'
    else if (toDay - fromDay + 1 > maxRangeDays) errors.to = `A report covers at most ${maxRangeDays} days; choose a later first day or an earlier last day.`
  }
  const valid = Object.keys(errors).length === 0
  return {
    query: { fromDay: valid ? fromDay! : todayDay - defaultRangeDays + 1, toDay: valid ? toDay! : todayDay, group, by },
    values: { from, to, group, by },
    errors
  }
}

/** The first day of the period a day falls in: itself, or the Monday of its week. */
export function periodStart (day: number, group: Grouping): number {
  // Day 0, 1970-01-01, was a Thursday.
  return group === 'day' ? day : day - ((day + 3) % 7)
}

/**
 * The `p` quantile (0 to 1) of the durations counted in `buckets`, in minutes, or null when
 * none were. The value is the `ceil(p × n)`-th smallest; within its bucket the values are
 * taken as evenly spread, each at the middle of its share (one value in [90, 120) reads 105).
 * The open-ended last bucket reads as its lower edge.
 */
export function percentile (buckets: readonly number[], p: number): number | null {
  const total = buckets.reduce((sum, n) => sum + n, 0)
  if (total <= 0) return null
  const rank = Math.max(1, Math.ceil(p * total))
  let before = 0
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i]!
    if (count > 0 && before + count >= rank) {
      const lower = i === 0 ? 0 : bucketEdges[i - 1]!
      const upper = bucketEdges[i]
      if (upper === undefined) return lower
      return lower + (upper - lower) * (rank - before - 0.5) / count
    }
    before += count
  }
  return null
}

export interface Durations { count: number, median: number | null, p90: number | null }
export interface Satisfaction { great: number, okay: number, notGood: number, total: number, score: number | null }

export interface ReportNumbers {
  created: number
  resolved: number
  reopened: number
  /** Open or pending tickets at the end of the period (or range). */
  backlog: number
  firstResponse: Durations
  resolution: Durations
  sla: { firstResponseMet: number, firstResponseBreached: number, resolutionMet: number, resolutionBreached: number }
  satisfaction: Satisfaction
}

export interface ReportPeriod extends ReportNumbers { start: number }
export interface ReportGroup extends ReportNumbers { key: number }

export interface Report {
  query: ReportQuery
  periods: ReportPeriod[]
  breakdown: ReportGroup[]
}

function emptySums (): ReportSums {
  const counters = Object.fromEntries(reportCounters.map((column) => [column, 0])) as Record<ReportCounter, number>
  return { ...counters, fr: new Array<number>(histogramBuckets).fill(0), rt: new Array<number>(histogramBuckets).fill(0) }
}

function addSums (into: ReportSums, from: ReportSums): void {
  for (const key of Object.keys(into) as Array<keyof ReportSums>) {
    if (key === 'fr' || key === 'rt') from[key].forEach((n, i) => { into[key][i] = (into[key][i] ?? 0) + n })
    else into[key] += from[key]
  }
}

function durations (buckets: readonly number[]): Durations {
  return { count: buckets.reduce((sum, n) => sum + n, 0), median: percentile(buckets, 0.5), p90: percentile(buckets, 0.9) }
}

function numbers (sums: ReportSums, backlog: number): ReportNumbers {
  const total = sums.survey_great + sums.survey_okay + sums.survey_not_good
  return {
    created: sums.created,
    resolved: sums.resolved,
    reopened: sums.reopened,
    backlog,
    firstResponse: durations(sums.fr),
    resolution: durations(sums.rt),
    sla: { firstResponseMet: sums.sla_fr_met, firstResponseBreached: sums.sla_fr_breached, resolutionMet: sums.sla_rt_met, resolutionBreached: sums.sla_rt_breached },
    satisfaction: {
      great: sums.survey_great,
      okay: sums.survey_okay,
      notGood: sums.survey_not_good,
      total,
      score: total === 0 ? null : Math.round((sums.survey_great - sums.survey_not_good) * 100 / total)
    }
  }
}

/** Departments whose numbers this agent may read: all (null) for administrators, those they manage otherwise. */
export function reportDepartments (access: AgentAccess): number[] | null {
  return scoreDepartments(access)
}

export function maySeeReports (access: AgentAccess): boolean {
  const departments = reportDepartments(access)
  return departments === null || departments.length > 0
}

/** One report over the agent's departments: per period of the range, and per value of the breakdown. */
export async function buildReport (db: Knex, access: AgentAccess, query: ReportQuery): Promise<Report> {
  const range: ReportRange = { fromDay: query.fromDay, toDay: query.toDay, departmentIds: reportDepartments(access) }
  const [days, groups, before] = await Promise.all([
    sumReportByDay(db, range),
    sumReportByKey(db, range, query.by),
    sumBacklogBefore(db, range, query.fromDay, query.by)
  ])
  const byStart = new Map<number, ReportSums>()
  for (let day = query.fromDay; day <= query.toDay; day++) {
    const start = periodStart(day, query.group)
    if (!byStart.has(start)) byStart.set(start, emptySums())
  }
  for (const row of days) addSums(byStart.get(periodStart(row.day, query.group))!, row)
  let backlog = [...before.values()].reduce((sum, n) => sum + n, 0)
  const periods: ReportPeriod[] = []
  for (const [start, sums] of byStart) {
    backlog += sums.backlog
    periods.push({ start, ...numbers(sums, backlog) })
  }
  const keys = new Set([...groups.map((g) => g.key), ...[...before].filter(([, n]) => n !== 0).map(([key]) => key)])
  const breakdown = [...keys].map((key) => {
    const sums = groups.find((g) => g.key === key) ?? emptySums()
    return { key, ...numbers(sums, (before.get(key) ?? 0) + sums.backlog) }
  })
  return { query, periods, breakdown }
}
