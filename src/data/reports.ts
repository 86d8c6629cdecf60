import { dialectOfDb, type Db } from './database.js'

/*
 * The daily report counters (migrations/20261203010000_report_daily.ts): added to in the
 * transaction of the event that changes them, summed by the report pages.
 */

export const histogramBuckets = 47

function bucketColumns (prefix: 'fr' | 'rt'): string[] {
  return Array.from({ length: histogramBuckets }, (_, i) => `${prefix}_b${String(i).padStart(2, '0')}`)
}

export const firstResponseBuckets = bucketColumns('fr')
export const resolutionBuckets = bucketColumns('rt')

export const reportCounters = [
  'created', 'resolved', 'reopened', 'backlog', 'first_responses',
  'sla_fr_met', 'sla_fr_breached', 'sla_rt_met', 'sla_rt_breached',
  'survey_great', 'survey_okay', 'survey_not_good'
] as const
export type ReportCounter = typeof reportCounters[number]

/** Where a count lands: the ticket's department, team, agent and help topic (0: none). */
export interface ReportKey {
  department_id: number
  team_id: number
  agent_id: number
  topic_id: number
}

export const reportDimensions = ['department', 'team', 'agent', 'topic'] as const
export type ReportDimension = typeof reportDimensions[number]

const valueOf: Readonly<Record<ReportDimension, (key: ReportKey) => number>> = {
  department: (key) => key.department_id,
  team: (key) => key.team_id,
  agent: (key) => key.agent_id,
  topic: (key) => key.topic_id
}

/** Counter and bucket columns to add to (negative to take away). */
export type ReportCounts = Record<string, number>

export interface ReportChange { day: number, key: ReportKey, counts: ReportCounts }

/**
 * Adds each change to the rows of its placement, one per dimension, creating them at zero
 * first. Changes that cancel out on a row (a ticket moving between two agents of one
 * department leaves its department row as it was) write nothing there.
 */
export async function addToReportDays (db: Db, changes: readonly ReportChange[]): Promise<void> {
  const rows = new Map<string, { dimension: ReportDimension, day: number, department_id: number, value_id: number, counts: ReportCounts }>()
  for (const { day, key, counts } of changes) {
    for (const dimension of reportDimensions) {
      const id = `${dimension}:${day}:${key.department_id}:${valueOf[dimension](key)}`
      let row = rows.get(id)
      if (!row) rows.set(id, row = { dimension, day, department_id: key.department_id, value_id: valueOf[dimension](key), counts: {} })
      for (const [column, n] of Object.entries(counts)) row.counts[column] = (row.counts[column] ?? 0) + n
    }
  }
  // One statement per set of columns (usually one for all rows): each row adds what it holds.
  // Rows go in key order, so two transactions lock the rows they share in the same order.
  const byShape = new Map<string, Array<Record<string, number | string>>>()
  const ordered = [...rows.values()].sort((a, b) => a.dimension.localeCompare(b.dimension) || a.day - b.day || a.department_id - b.department_id || a.value_id - b.value_id)
  for (const { counts, ...where } of ordered) {
    const changed = Object.entries(counts).filter(([, n]) => n !== 0)
    if (changed.length === 0) continue
    const shape = changed.map(([column]) => column).sort().join(',')
    byShape.set(shape, [...byShape.get(shape) ?? [], { ...where, ...Object.fromEntries(changed) }])
  }
  const added = dialectOfDb(db) === 'mysql' ? '?? + values(??)' : '?? + excluded.??'
  for (const [shape, list] of byShape) {
    const merge = Object.fromEntries(shape.split(',').map((column) => [column, db.raw(added, [`report_daily.${column}`, column])]))
    await db('report_daily').insert(list).onConflict(['dimension', 'day', 'department_id', 'value_id']).merge(merge)
  }
}

export type ReportSums = Record<ReportCounter, number> & { fr: number[], rt: number[] }

const summed = [...reportCounters, ...firstResponseBuckets, ...resolutionBuckets]

function toSums (row: Record<string, unknown>): ReportSums {
  const number = (column: string): number => Number(row[column] ?? 0)
  const sums = Object.fromEntries(reportCounters.map((column) => [column, number(column)])) as Record<ReportCounter, number>
  return { ...sums, fr: firstResponseBuckets.map(number), rt: resolutionBuckets.map(number) }
}

export interface ReportRange {
  fromDay: number
  toDay: number
  /** Only these departments; null for all. */
  departmentIds: readonly number[] | null
}

function scoped (db: Db, range: Pick<ReportRange, 'departmentIds'>, dimension: ReportDimension) {
  const query = db('report_daily').where('dimension', dimension)
  if (range.departmentIds !== null) void query.whereIn('department_id', range.departmentIds)
  return query
}

/** Every counter summed per day of the range, days without rows left out. */
export async function sumReportByDay (db: Db, range: ReportRange): Promise<Array<ReportSums & { day: number }>> {
  const rows: Array<Record<string, unknown>> = await scoped(db, range, 'department')
    .whereBetween('day', [range.fromDay, range.toDay])
    .groupBy('day')
    .select('day', ...summed.map((column) => db.raw('sum(??) as ??', [column, column])))
  return rows.map((row) => ({ ...toSums(row), day: Number(row.day) }))
}

/** Every counter summed over the range per department, team, agent or help topic. */
export async function sumReportByKey (db: Db, range: ReportRange, by: ReportDimension): Promise<Array<ReportSums & { key: number }>> {
  const rows: Array<Record<string, unknown>> = await scoped(db, range, by)
    .whereBetween('day', [range.fromDay, range.toDay])
    .groupBy('value_id')
    .select(db.raw('?? as ??', ['value_id', 'key']), ...summed.map((column) => db.raw('sum(??) as ??', [column, column])))
  return rows.map((row) => ({ ...toSums(row), key: Number(row.key) }))
}

/** The open tickets at the end of the day before `day`, per department, team, agent or help topic. */
export async function sumBacklogBefore (db: Db, range: Pick<ReportRange, 'departmentIds'>, day: number, by: ReportDimension): Promise<Map<number, number>> {
  const rows: Array<{ key: number | string, backlog: number | string | null }> = await scoped(db, range, by)
    .where('day', '<', day)
    .groupBy('value_id')
    .select(db.raw('?? as ??', ['value_id', 'key']), db.raw('sum(backlog) as backlog'))
  return new Map(rows.map((row) => [Number(row.key), Number(row.backlog ?? 0)]))
}
