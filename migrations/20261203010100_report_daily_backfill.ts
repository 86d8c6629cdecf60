import type { Knex } from 'knex'

/*
 * Fills report_daily with the tickets a desk already has, the way the application keeps it
 * from now on (src/domain/report-counts.ts), a batch of tickets at a time: each batch's
 * tickets, their status, merge and SLA events and their ratings are read by id range, summed
 * here and added to the rows (an upsert that adds, so batches that share a day and placement
 * add up). Safe to run twice: it starts from an empty table. What history no longer tells:
 * - every count of a ticket lands on its placement now (who it was assigned to back then
 *   is not kept), so per day and per department the numbers hold, per agent they are where
 *   the tickets ended up;
 * - durations are wall-clock minutes (business hours need the application's calendar code);
 * - a ticket in the trash left the backlog when it was deleted; one restored since never did.
 * The bucket edges are those of the application, copied: a migration is final, so they must
 * never change there without a new table.
 */

const batchSize = 5000
const dayMs = 86_400_000
const edges = [
  1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 90, 120, 150, 180, 240, 300, 360, 480, 600, 720,
  960, 1200, 1440, 1920, 2400, 2880, 3600, 4320, 5760, 7200, 8640, 10080, 14400, 20160, 28800, 40320, 60480, 86400, 129600
]
const keyColumns = ['dimension', 'day', 'department_id', 'value_id']

function bucket (prefix: 'fr' | 'rt', ms: number): string {
  const index = edges.findIndex((edge) => ms / 60_000 < edge)
  return `${prefix}_b${String(index === -1 ? edges.length : index).padStart(2, '0')}`
}

interface Ticket {
  id: number
  department_id: number
  team_id: number | null
  assignee_id: number | null
  help_topic_id: number | null
  status: string
  created_at: number
  first_response_at: number | null
  deleted_at: number | null
}

const open = (status: unknown): boolean => status === 'open' || status === 'pending'

function parse (text: string | null): Record<string, unknown> {
  if (text === null) return {}
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

function client (knex: Knex): string {
  return (knex.client as { config: { client: string } }).config.client
}

export async function up (knex: Knex): Promise<void> {
  await knex('report_daily').del()
  const mysql = client(knex) === 'mysql2' || client(knex) === 'mysql'
  let lastId = 0
  for (;;) {
    const tickets: Ticket[] = (await knex('tickets').where('id', '>', lastId).orderBy('id').limit(batchSize)
      .select('id', 'department_id', 'team_id', 'assignee_id', 'help_topic_id', 'status', 'created_at', 'first_response_at', 'deleted_at'))
      .map((row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null || k === 'status' ? v : Number(v)])) as unknown as Ticket)
    if (tickets.length === 0) return
    const first = tickets[0]!.id
    const last = tickets.at(-1)!.id
    const byId = new Map(tickets.map((ticket) => [ticket.id, ticket]))
    const rows = new Map<string, Record<string, number | string>>()
    // Each count goes to its placement's four rows, one per dimension (as the application writes them).
    const add = (at: number, place: { department_id: number, team_id: number | null, agent_id: number | null, topic_id: number | null }, counts: Record<string, number>): void => {
      const day = Math.floor(at / dayMs)
      const values = { department: place.department_id, team: place.team_id ?? 0, agent: place.agent_id ?? 0, topic: place.topic_id ?? 0 }
      for (const [dimension, value] of Object.entries(values)) {
        const id = `${dimension}:${day}:${place.department_id}:${value}`
        let row = rows.get(id)
        if (!row) rows.set(id, row = { dimension, day, department_id: place.department_id, value_id: value })
        for (const [column, n] of Object.entries(counts)) row[column] = Number(row[column] ?? 0) + n
      }
    }
    const placeOf = (ticket: Ticket) => ({ department_id: ticket.department_id, team_id: ticket.team_id, agent_id: ticket.assignee_id, topic_id: ticket.help_topic_id })

    for (const ticket of tickets) {
      add(ticket.created_at, placeOf(ticket), { created: 1, backlog: 1 })
      if (ticket.first_response_at !== null) add(ticket.first_response_at, placeOf(ticket), { first_responses: 1, [bucket('fr', ticket.first_response_at - ticket.created_at)]: 1 })
      if (ticket.deleted_at !== null && open(ticket.status)) add(ticket.deleted_at, placeOf(ticket), { backlog: -1 })
    }
    const events: Array<{ ticket_id: number, type: string, before_state: string | null, after_state: string | null, created_at: number }> = await knex('events')
      .whereBetween('ticket_id', [first, last]).whereIn('type', ['status_changed', 'merged', 'sla'])
      .select('ticket_id', 'type', 'before_state', 'after_state', 'created_at')
    for (const event of events) {
      const ticket = byId.get(Number(event.ticket_id))
      if (!ticket) continue
      const at = Number(event.created_at)
      const before = parse(event.before_state)
      const after = parse(event.after_state)
      if (event.type === 'status_changed' && open(before.status) && !open(after.status)) {
        add(at, placeOf(ticket), { resolved: 1, backlog: -1, [bucket('rt', at - ticket.created_at)]: 1 })
      } else if (event.type === 'status_changed' && !open(before.status) && open(after.status)) {
        add(at, placeOf(ticket), { reopened: 1, backlog: 1 })
      } else if (event.type === 'merged' && open(before.status)) {
        add(at, placeOf(ticket), { backlog: -1 })
      } else if (event.type === 'sla' && (after.change === 'met' || after.change === 'breached') && (after.target === 'first_response' || after.target === 'resolution')) {
        add(at, placeOf(ticket), { [`sla_${after.target === 'first_response' ? 'fr' : 'rt'}_${after.change}`]: 1 })
      }
    }
    const surveys: Array<{ ticket_id: number, department_id: number, team_id: number | null, agent_id: number | null, rating: string, rated_at: number | null, closed_at: number }> = await knex('satisfaction_surveys')
      .whereBetween('ticket_id', [first, last]).whereNotNull('rating')
      .select('ticket_id', 'department_id', 'team_id', 'agent_id', 'rating', 'rated_at', 'closed_at')
    for (const survey of surveys) {
      const ticket = byId.get(Number(survey.ticket_id))
      const column = { great: 'survey_great', okay: 'survey_okay', not_good: 'survey_not_good' }[survey.rating]
      if (!ticket || column === undefined) continue
      const place = { department_id: Number(survey.department_id), team_id: survey.team_id === null ? null : Number(survey.team_id), agent_id: survey.agent_id === null ? null : Number(survey.agent_id), topic_id: ticket.help_topic_id }
      add(Number(survey.rated_at ?? survey.closed_at), place, { [column]: 1 })
    }

    // Rows of one batch share their columns only by chance: one statement per set of columns.
    const byShape = new Map<string, Array<Record<string, number | string>>>()
    for (const row of rows.values()) {
      const shape = Object.keys(row).sort().join(',')
      byShape.set(shape, [...byShape.get(shape) ?? [], row])
    }
    for (const [shape, list] of byShape) {
      const counters = shape.split(',').filter((column) => !keyColumns.includes(column))
      const merge = Object.fromEntries(counters.map((column) => [column, knex.raw(mysql ? '?? + values(??)' : '?? + excluded.??', [`report_daily.${column}`, column])]))
      const perStatement = Math.max(1, Math.min(500, Math.floor(30_000 / (counters.length + keyColumns.length))))
      for (let i = 0; i < list.length; i += perStatement) {
        await knex('report_daily').insert(list.slice(i, i + perStatement)).onConflict(keyColumns).merge(merge)
      }
    }
    lastId = last
  }
}

export async function down (knex: Knex): Promise<void> {
  await knex('report_daily').del()
}
