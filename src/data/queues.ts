import type { Knex } from 'knex'
import type { AgentAccess } from './agents.js'
import type { Db } from './database.js'
import type { TicketStatus } from './tickets.js'

export const queueNames = ['unassigned', 'mine', 'teams', 'open', 'pending', 'resolved', 'closed'] as const
export type QueueName = typeof queueNames[number]

export const sortColumns = { activity: 'last_activity_at', created: 'created_at', priority: 'priority' } as const
export type SortKey = keyof typeof sortColumns

export interface QueueFilters {
  department?: number
  topic?: number
  priority?: number
  /** An agent id, or 0 for "nobody". */
  assignee?: number
  status?: TicketStatus
}

export interface QueueQuery {
  queue: QueueName
  filters: QueueFilters
  sort: SortKey
  /** Keyset cursor: the sort value and id of the last row already shown. */
  after?: { value: number, id: number }
  limit: number
}

export interface QueueRow {
  id: number
  number: string
  subject: string
  status: TicketStatus
  priority: number
  answered: boolean
  department_name: string
  requester_name: string
  requester_email: string
  assignee_name: string | null
  team_name: string | null
  created_at: number
  last_activity_at: number
}

/** Only what the agent may see: their departments and their own tickets; admins see all. */
export function visibleTo (query: Knex.QueryBuilder, access: AgentAccess): Knex.QueryBuilder {
  if (access.isAdmin) return query
  const departments = Object.keys(access.roles).map(Number)
  return query.where((q) => {
    if (departments.length > 0) q.whereIn('t.department_id', departments)
    q.orWhere('t.assignee_id', access.id)
  })
}

function inQueue (query: Knex.QueryBuilder, queue: QueueName, access: AgentAccess): Knex.QueryBuilder {
  switch (queue) {
    case 'unassigned': return query.where('t.status', 'open').whereNull('t.assignee_id')
    case 'mine': return query.where('t.assignee_id', access.id).whereIn('t.status', ['open', 'pending'])
    case 'teams': return query.whereIn('t.team_id', access.teamIds.length > 0 ? access.teamIds : [-1]).whereIn('t.status', ['open', 'pending'])
    default: return query.where('t.status', queue)
  }
}

function filtered (query: Knex.QueryBuilder, filters: QueueFilters): Knex.QueryBuilder {
  if (filters.department !== undefined) query.where('t.department_id', filters.department)
  if (filters.topic !== undefined) query.where('t.help_topic_id', filters.topic)
  if (filters.priority !== undefined) query.where('t.priority', filters.priority)
  if (filters.assignee === 0) query.whereNull('t.assignee_id')
  else if (filters.assignee !== undefined) query.where('t.assignee_id', filters.assignee)
  if (filters.status !== undefined) query.where('t.status', filters.status)
  return query
}

/**
 * One page of a queue, newest first. The page's ids are found first on the tickets table
 * alone (index order, LIMIT), then only those rows are joined to the names a page shows.
 */
export async function listQueue (db: Db, access: AgentAccess, q: QueueQuery): Promise<QueueRow[]> {
  const column = `t.${sortColumns[q.sort]}`
  const order = [{ column, order: 'desc' as const }, { column: 't.id', order: 'desc' as const }]
  const page = db('tickets as t').select('t.id').whereNull('t.deleted_at')
  visibleTo(page, access)
  inQueue(page, q.queue, access)
  filtered(page, q.filters)
  if (q.after) {
    // Row-value comparison keeps the page boundary exact when many rows share a sort value.
    page.whereRaw(`(${column}, t.id) < (?, ?)`, [q.after.value, q.after.id])
  }
  page.orderBy(order).limit(q.limit)
  const rows = await db.from(page.as('page'))
    .join('tickets as t', 't.id', 'page.id')
    .join('requesters as r', 'r.id', 't.requester_id')
    .join('departments as d', 'd.id', 't.department_id')
    .leftJoin('agents as a', 'a.id', 't.assignee_id')
    .leftJoin('teams as tm', 'tm.id', 't.team_id')
    .select('t.id', 't.number', 't.subject', 't.status', 't.priority', 't.answered', 't.created_at', 't.last_activity_at',
      'd.name as department_name', 'r.name as requester_name', 'r.email as requester_email',
      'a.name as assignee_name', 'tm.name as team_name')
    .orderBy(order)
  for (const row of rows) row.answered = Boolean(row.answered)
  return rows
}

/**
 * How many tickets each queue holds for this agent. The visibility rule (my departments OR
 * assigned to me) is split into two disjoint counts so each one runs on an index.
 */
export async function countQueues (db: Db, access: AgentAccess): Promise<Record<QueueName, number>> {
  const departments = Object.keys(access.roles).map(Number)
  const scopes: Array<(q: Knex.QueryBuilder) => Knex.QueryBuilder> = access.isAdmin
    ? [(q) => q]
    : [
        (q) => q.whereIn('t.department_id', departments.length > 0 ? departments : [-1]),
        (q) => q.where('t.assignee_id', access.id).whereNotIn('t.department_id', departments.length > 0 ? departments : [-1])
      ]
  const counts = await Promise.all(queueNames.map(async (queue) => {
    let total = 0
    for (const scope of scopes) {
      const [row] = await inQueue(scope(db('tickets as t').count({ n: '*' }).whereNull('t.deleted_at')), queue, access)
      total += Number(row?.n ?? 0)
    }
    return [queue, total] as const
  }))
  return Object.fromEntries(counts) as Record<QueueName, number>
}

/** The requester's other tickets this agent may see, newest first. */
export async function listRequesterTickets (db: Db, access: AgentAccess, requesterId: number, exceptTicketId: number): Promise<Array<{ number: string, subject: string, status: TicketStatus }>> {
  const query = db('tickets as t')
    .where('t.requester_id', requesterId)
    .andWhereNot('t.id', exceptTicketId)
    .whereNull('t.deleted_at')
    .orderBy('t.created_at', 'desc')
    .limit(5)
    .select('t.number', 't.subject', 't.status')
  return await visibleTo(query, access)
}

/** A ticket by number, only if this agent may see it. */
export async function findVisibleTicketNumber (db: Db, access: AgentAccess, number: string): Promise<number | undefined> {
  const query = db('tickets as t').where('t.number', number).whereNull('t.deleted_at').first('t.id')
  const row = await visibleTo(query, access)
  return row?.id
}
