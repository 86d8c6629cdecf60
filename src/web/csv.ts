import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import type { QueueRow } from '../data/queues.js'
import { priorityLabel, statusLabel } from './format.js'

/*
 * CSV exports of queues and search results, streamed a page of rows at a time so a million
 * tickets take no more memory than one page. Cells that a spreadsheet would run as a formula
 * (starting with = + - @, or a tab or carriage return that hides one) get a leading
 * apostrophe: the OWASP advice against CSV injection.
 */

const formulaStart = /^[=+\-@\t\r]/

export function csvCell (value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value)
  if (formulaStart.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvLine (cells: Array<string | number | null | undefined>): string {
  return cells.map(csvCell).join(',') + '\r\n'
}

const iso = (ms: number): string => new Date(ms).toISOString()

export const ticketColumns = ['Number', 'Subject', 'Status', 'Priority', 'Department', 'Requester', 'Requester e-mail', 'Assignee', 'Team', 'Created (UTC)', 'Last activity (UTC)']

export function ticketCells (row: QueueRow): Array<string | number | null> {
  return [row.number, row.subject, statusLabel(row.status), priorityLabel(row.priority), row.department_name, row.requester_name,
    row.requester_email, row.assignee_name, row.team_name, iso(row.created_at), iso(row.last_activity_at)]
}

/**
 * Sends `pages` as a CSV download: the header line, then each page's rows as they come.
 * `pages` yields arrays of rows until the export is complete.
 */
export async function sendCsv<Row> (reply: FastifyReply, filename: string, header: string[], cells: (row: Row) => Array<string | number | null>, pages: AsyncIterable<Row[]>): Promise<FastifyReply> {
  async function * lines (): AsyncGenerator<string> {
    // A byte order mark so spreadsheet programs read the file as UTF-8.
    yield '\uFEFF' + csvLine(header)
    for await (const page of pages) yield page.map((row) => csvLine(cells(row))).join('')
  }
  reply.header('Cache-Control', 'private, no-store')
  reply.header('Content-Disposition', `attachment; filename="${filename}"`)
  reply.type('text/csv; charset=utf-8')
  return await reply.send(Readable.from(lines()))
}
