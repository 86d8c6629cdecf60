import { dateOfDay, type Breakdown, type Durations, type Report, type ReportGroup, type ReportNumbers, type ReportPeriod } from '../domain/reports.js'
import { buildChart, type Chart, type ChartSeries } from './chart.js'

/*
 * What each report section shows: its table's columns (the page's text and the CSV's
 * value), and the chart drawn from the same numbers. The page and the CSV export read the
 * same list, so the two never disagree.
 */

type Cell = string | number | null

export interface Column<Row> {
  label: string
  /** As the page shows it. */
  text: (row: Row) => string
  /** As the CSV holds it (durations in minutes). */
  value: (row: Row) => Cell
}

export type PeriodRow = ReportPeriod & { label: string }
export type GroupRow = ReportGroup & { name: string }

export interface Section<Row> {
  id: string
  title: string
  /** What the numbers mean, under the heading. */
  intro: string
  columns: Array<Column<Row>>
  chart?: (rows: readonly Row[], report: Report) => Chart
}

/** Minutes as people read them: "45 min", "1 h 45 min", "3 d 4 h"; "—" for none. */
export function formatMinutes (minutes: number | null): string {
  if (minutes === null) return '—'
  const whole = Math.round(minutes)
  if (whole < 60) return `${whole} min`
  if (whole < 2 * 1440) {
    const h = Math.floor(whole / 60)
    const m = whole % 60
    return m === 0 ? `${h} h` : `${h} h ${m} min`
  }
  const d = Math.floor(whole / 1440)
  const h = Math.round((whole % 1440) / 60)
  return h === 0 ? `${d} d` : `${d} d ${h} h`
}

const minutesValue = (minutes: number | null): Cell => minutes === null ? null : Math.round(minutes * 10) / 10
const hours = (minutes: number | null): number | null => minutes === null ? null : Math.round(minutes / 6) / 10

function count<Row> (label: string, pick: (row: Row) => number): Column<Row> {
  return { label, text: (row) => String(pick(row)), value: pick }
}

function duration<Row> (label: string, pick: (row: Row) => number | null): Column<Row> {
  return { label: `${label}`, text: (row) => formatMinutes(pick(row)), value: (row) => minutesValue(pick(row)) }
}

const score = <Row extends ReportNumbers>(): Column<Row> => ({
  label: 'Score',
  text: (row) => row.satisfaction.score === null ? '—' : String(row.satisfaction.score),
  value: (row) => row.satisfaction.score
})

function periodWord (report: Report): string {
  return report.query.group === 'day' ? 'day' : 'week'
}

function rangeWords (report: Report): string {
  return `${dateOfDay(report.query.fromDay)} to ${dateOfDay(report.query.toDay)}`
}

function chartOf (id: string, kind: 'bar' | 'line', title: string, rows: readonly PeriodRow[], report: Report, series: ChartSeries[], extra: { unit?: string, range?: readonly [number, number, number], minStep?: number } = {}): Chart {
  const names = series.map((s) => s.name)
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`
  return buildChart({
    id,
    kind,
    title,
    description: `${kind === 'bar' ? 'Bar' : 'Line'} chart of ${list.toLowerCase()} per ${periodWord(report)}, ${rangeWords(report)}. The same numbers are in the table that follows.`,
    // Month and day under the axis (the year and what a period is are in the description).
    labels: rows.map((row) => dateOfDay(row.start).slice(5)),
    series,
    ...extra
  })
}

function durationColumns (pick: (row: ReportNumbers) => Durations, what: string): Array<Column<ReportNumbers>> {
  return [
    count(what, (row) => pick(row).count),
    duration('Median', (row) => pick(row).median),
    duration('90th percentile', (row) => pick(row).p90)
  ]
}

export const periodSections: ReadonlyArray<Section<PeriodRow>> = [
  {
    id: 'volume',
    title: 'Created and resolved',
    intro: 'Tickets opened, tickets resolved or closed while open or pending, and resolved or closed tickets opened again.',
    columns: [count('Created', (row) => row.created), count('Resolved', (row) => row.resolved), count('Reopened', (row) => row.reopened)],
    chart: (rows, report) => chartOf('volume', 'bar', 'Created and resolved', rows, report, [
      { name: 'Created', values: rows.map((row) => row.created) },
      { name: 'Resolved', values: rows.map((row) => row.resolved) }
    ])
  },
  {
    id: 'backlog',
    title: 'Backlog',
    intro: 'Tickets open or pending at the end of each period (not counting the trash).',
    columns: [count('Open at the end', (row) => row.backlog)],
    chart: (rows, report) => chartOf('backlog', 'line', 'Backlog', rows, report, [{ name: 'Open at the end', values: rows.map((row) => row.backlog) }])
  },
  {
    id: 'first-response',
    title: 'First response time',
    intro: 'From a ticket’s creation to its first agent reply, counted in the period of the reply: in business hours when the ticket’s SLA plan has a schedule, else around the clock.',
    columns: durationColumns((row) => row.firstResponse, 'First replies'),
    chart: (rows, report) => chartOf('first-response', 'line', 'First response time', rows, report, [
      { name: 'Median', values: rows.map((row) => hours(row.firstResponse.median)) },
      { name: '90th percentile', values: rows.map((row) => hours(row.firstResponse.p90)) }
    ], { unit: 'h', minStep: 0.1 })
  },
  {
    id: 'resolution',
    title: 'Resolution time',
    intro: 'From a ticket’s creation to its resolution (or closing), counted in the period it was resolved, in business hours where its SLA plan has a schedule.',
    columns: durationColumns((row) => row.resolution, 'Resolutions'),
    chart: (rows, report) => chartOf('resolution', 'line', 'Resolution time', rows, report, [
      { name: 'Median', values: rows.map((row) => hours(row.resolution.median)) },
      { name: '90th percentile', values: rows.map((row) => hours(row.resolution.p90)) }
    ], { unit: 'h', minStep: 0.1 })
  },
  {
    id: 'sla',
    title: 'SLA targets',
    intro: 'First-response and resolution targets judged met or breached in each period.',
    columns: [
      count('First response met', (row) => row.sla.firstResponseMet),
      count('First response breached', (row) => row.sla.firstResponseBreached),
      count('Resolution met', (row) => row.sla.resolutionMet),
      count('Resolution breached', (row) => row.sla.resolutionBreached)
    ],
    chart: (rows, report) => chartOf('sla', 'bar', 'SLA targets', rows, report, [
      { name: 'First response met', values: rows.map((row) => row.sla.firstResponseMet) },
      { name: 'First response breached', values: rows.map((row) => row.sla.firstResponseBreached) },
      { name: 'Resolution met', values: rows.map((row) => row.sla.resolutionMet) },
      { name: 'Resolution breached', values: rows.map((row) => row.sla.resolutionBreached) }
    ])
  },
  {
    id: 'satisfaction',
    title: 'Satisfaction',
    intro: 'The share of Great answers minus the share of Not good ones, from −100 to 100, counted on the day each answer was first given.',
    columns: [
      score(),
      count('Great', (row) => row.satisfaction.great),
      count('Okay', (row) => row.satisfaction.okay),
      count('Not good', (row) => row.satisfaction.notGood),
      count('Answers', (row) => row.satisfaction.total)
    ],
    chart: (rows, report) => chartOf('satisfaction', 'line', 'Satisfaction', rows, report, [{ name: 'Score', values: rows.map((row) => row.satisfaction.score) }], { range: [-100, 100, 50] })
  }
]

export const breakdownLabels: Readonly<Record<Breakdown, string>> = { department: 'Department', team: 'Team', agent: 'Agent', topic: 'Help topic' }

export const breakdownSection: Section<GroupRow> = {
  id: 'breakdown',
  title: 'Breakdown',
  intro: 'Every number over the whole range, for each department, team, agent or help topic the tickets had when each thing happened.',
  columns: [
    count('Created', (row) => row.created),
    count('Resolved', (row) => row.resolved),
    count('Open at the end', (row) => row.backlog),
    duration('First response median', (row) => row.firstResponse.median),
    duration('First response 90th percentile', (row) => row.firstResponse.p90),
    duration('Resolution median', (row) => row.resolution.median),
    duration('Resolution 90th percentile', (row) => row.resolution.p90),
    count('SLA met', (row) => row.sla.firstResponseMet + row.sla.resolutionMet),
    count('SLA breached', (row) => row.sla.firstResponseBreached + row.sla.resolutionBreached),
    score(),
    count('Answers', (row) => row.satisfaction.total)
  ]
}

export const sectionIds: readonly string[] = [...periodSections.map((s) => s.id), breakdownSection.id]

/** The period rows with their labels: the day, or the Monday that starts the week. */
export function periodRows (report: Report): PeriodRow[] {
  return report.periods.map((period) => ({ ...period, label: report.query.group === 'day' ? dateOfDay(period.start) : `Week of ${dateOfDay(period.start)}` }))
}

/** The breakdown rows with names, busiest first; `names` knows the ids (0 is "none"). */
export function groupRows (report: Report, name: (key: number) => string): GroupRow[] {
  return report.breakdown
    .map((group) => ({ ...group, name: name(group.key) }))
    .sort((a, b) => b.created - a.created || b.backlog - a.backlog || a.name.localeCompare(b.name))
}
