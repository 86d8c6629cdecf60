import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TesseraError } from '../../domain/errors.js'
import {
  breakdowns, buildReport, groupings, maySeeReports, parseReportParams, todayIn, type ParsedReportParams, type ReportParams
} from '../../domain/reports.js'
import { sendCsv } from '../csv.js'
import { readerOf } from '../reader-time.js'
import { breakdownLabels, breakdownSection, groupRows, periodRows, periodSections, type Column } from '../report-sections.js'
import { referenceData } from './reference-data.js'

/**
 * Reports for department managers (their departments) and administrators (all): created and
 * resolved, backlog, response and resolution times, SLA outcomes and satisfaction, per day
 * or week, with a breakdown, each section also as CSV.
 */
export default async function reportRoutes (app: FastifyInstance): Promise<void> {
  const reference = referenceData(app.db)

  async function parse (request: FastifyRequest<{ Querystring: ReportParams }>): Promise<ParsedReportParams> {
    if (!maySeeReports(request.agent)) throw new TesseraError('TESSERA_FORBIDDEN', 'Reports are for managers and administrators.')
    const reader = readerOf(request, await app.deskSettings.current(), app.lifecycle.now)
    return parseReportParams(request.query, todayIn(reader.zone, app.lifecycle.now()))
  }

  async function load (request: FastifyRequest, parsed: ParsedReportParams) {
    const [report, { departments, teams, agents, topics }] = await Promise.all([buildReport(app.db, request.agent, parsed.query), reference()])
    const lists = { department: departments, team: teams, agent: agents, topic: topics }
    const none = { department: '—', team: 'No team', agent: 'Nobody assigned', topic: 'No help topic' }
    const by = parsed.query.by
    const name = (key: number): string => key === 0 ? none[by] : lists[by].find((row) => row.id === key)?.name ?? 'Removed'
    return { report, periods: periodRows(report), groups: groupRows(report, name) }
  }

  function search (parsed: ParsedReportParams): string {
    return new URLSearchParams(parsed.values).toString()
  }

  app.get<{ Querystring: ReportParams }>('/staff/reports', async (request, reply) => {
    const parsed = await parse(request)
    const { report, periods, groups } = await load(request, parsed)
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/reports', {
      agent: request.agent,
      values: parsed.values,
      errors: parsed.errors,
      search: search(parsed),
      groupings,
      breakdowns: breakdowns.map((value) => ({ value, label: breakdownLabels[value] })),
      byLabel: breakdownLabels[parsed.query.by],
      sections: periodSections.map((section) => ({ ...section, rows: periods, chart: section.chart?.(periods, report) })),
      breakdown: { ...breakdownSection, rows: groups },
      periodLabel: parsed.query.group === 'day' ? 'Day' : 'Week'
    }, { status: Object.keys(parsed.errors).length > 0 ? 422 : undefined })
  })

  async function sendSection<Row> (reply: FastifyReply, id: string, first: string, rows: readonly Row[], firstCell: (row: Row) => string, columns: ReadonlyArray<Column<Row>>): Promise<FastifyReply> {
    async function * pages (): AsyncGenerator<Row[]> { yield [...rows] }
    return await sendCsv(reply, `report-${id}.csv`, [first, ...columns.map((c) => c.label)], (row: Row) => [firstCell(row), ...columns.map((c) => c.value(row))], pages())
  }

  for (const section of periodSections) {
    app.get<{ Querystring: ReportParams }>(`/staff/reports/${section.id}.csv`, async (request, reply) => {
      const parsed = await parse(request)
      if (Object.keys(parsed.errors).length > 0) throw new TesseraError('TESSERA_INVALID_INPUT', Object.values(parsed.errors).join(' '))
      const { periods } = await load(request, parsed)
      const first = parsed.query.group === 'day' ? 'Day (UTC)' : 'Week starting (UTC)'
      return await sendSection(reply, section.id, first, periods, (row) => row.label.replace(/^Week of /, ''), section.columns)
    })
  }

  app.get<{ Querystring: ReportParams }>(`/staff/reports/${breakdownSection.id}.csv`, async (request, reply) => {
    const parsed = await parse(request)
    if (Object.keys(parsed.errors).length > 0) throw new TesseraError('TESSERA_INVALID_INPUT', Object.values(parsed.errors).join(' '))
    const { groups } = await load(request, parsed)
    return await sendSection(reply, breakdownSection.id, breakdownLabels[parsed.query.by], groups, (row) => row.name, breakdownSection.columns)
  })
}
