import type { Knex } from 'knex'
import type { AgentAccess, DepartmentRole } from './agents.js'
import { listOf, outputName, preparedRead, readList, selectList, type Db, type ListRead } from './database.js'
import { joinedSurvey, joinedSurveyColumns, joinedSurveyNames, type SurveyRow } from './surveys.js'
import { ticketViewColumns, ticketViews, toTicketViews, type TicketRow, type TicketStatus, type TicketView } from './tickets.js'
import { allowedFrom, leastRole, roleRank, statuses, type StaffAction } from '../domain/permissions.js'
import { ticketNumberPattern } from '../domain/access.js'

export const queueNames = ['unassigned', 'mine', 'teams', 'overdue', 'open', 'pending', 'resolved', 'closed'] as const
export type QueueName = typeof queueNames[number]

export const sortColumns = { activity: 'last_activity_at', created: 'created_at', priority: 'priority', due: 'sla_due_at' } as const
export type SortKey = keyof typeof sortColumns

/**
 * How a queue is sorted until the agent chooses: most overdue first for Overdue, which
 * also reads its (status, sla_due_at, id) index in order; newest activity elsewhere.
 */
export function defaultSort (queue: QueueName): SortKey {
  return queue === 'overdue' ? 'due' : 'activity'
}

export interface QueueFilters {
  department?: number
  topic?: number
  priority?: number
  /** An agent id, or 0 for "nobody". */
  assignee?: number
  team?: number
  status?: TicketStatus
}

export interface QueueQuery {
  queue: QueueName
  filters: QueueFilters
  sort: SortKey
  /** Keyset cursor: the sort value and id of the last row already shown. */
  after?: { value: number, id: number }
  limit: number
  /** The instant the Overdue queue is measured against. */
  now?: number
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
  /** The next SLA due time still to meet (null: none). */
  sla_due_at: number | null
}

/*
 * The permission rule of src/domain/permissions.ts (`allowedActions`) as SQL scopes, built
 * from the same tables, so lists and lookups answer what the ticket page and the verbs
 * answer. test/domain/permissions-scope.test.ts pins the two together.
 */

function rolesAtLeast (least: DepartmentRole): DepartmentRole[] {
  return (Object.keys(roleRank) as DepartmentRole[]).filter((role) => roleRank[role] >= roleRank[least])
}

/**
 * Where an agent may take an action, as plain values a prepared read can take: every
 * department (an admin), or these departments and whatever is assigned to `assignee`.
 */
export type AgentScope = {
  readonly everywhere: boolean
  readonly departments: readonly number[]
  readonly assignee: number | null
}

export function agentScope (access: AgentAccess, action: StaffAction): AgentScope {
  if (access.isAdmin) return { everywhere: true, departments: [], assignee: null }
  const least = leastRole[action]
  const departments = Object.entries(access.roles)
    .filter(([, role]) => roleRank[role] >= roleRank[least])
    .map(([id]) => Number(id))
  // Whoever a ticket is assigned to works it with the agent role at least.
  return { everywhere: false, departments, assignee: roleRank[least] <= roleRank.agent ? access.id : null }
}

/** Tickets (`t`) on which this agent may take `action` now. */
export function whereAgentMay (query: Knex.QueryBuilder, access: AgentAccess, action: StaffAction): Knex.QueryBuilder {
  return whereInScope(query, agentScope(access, action), action)
}

/** Tickets (`t`) within `scope` (see agentScope) in a status `action` may start from. */
export function whereInScope (query: Knex.QueryBuilder, scope: AgentScope, action: StaffAction): Knex.QueryBuilder {
  const from = allowedFrom[action]
  if (from.length < statuses.length) query.whereIn('t.status', from)
  if (scope.everywhere) return query
  const { departments, assignee } = scope
  return query.where((q) => {
    if (departments.length > 0) q.whereIn('t.department_id', departments)
    if (assignee !== null) q.orWhere('t.assignee_id', assignee)
    if (departments.length === 0 && assignee === null) q.whereRaw('1 = 0')
  })
}

/** Only what the agent may see: their departments and their own tickets; admins see all. */
export function visibleTo (query: Knex.QueryBuilder, access: AgentAccess): Knex.QueryBuilder {
  return whereAgentMay(query, access, 'read')
}

/** Agents (`a`) who may take `action` on this ticket now: the same rule, seen from the ticket. */
export function agentsWhoMay (query: Knex.QueryBuilder, ticket: Pick<TicketRow, 'status' | 'department_id' | 'assignee_id'>, action: StaffAction): Knex.QueryBuilder {
  if (!allowedFrom[action].includes(ticket.status)) return query.whereRaw('1 = 0')
  const least = leastRole[action]
  return query.where((q) => {
    q.where('a.is_admin', true)
      .orWhereExists((sub) => {
        void sub.select(sub.client.raw('1')).from('agent_departments as ad')
          .whereRaw('ad.agent_id = a.id')
          .andWhere('ad.department_id', ticket.department_id)
          .whereIn('ad.role', rolesAtLeast(least))
      })
    if (ticket.assignee_id !== null && roleRank[least] <= roleRank.agent) q.orWhere('a.id', ticket.assignee_id)
  })
}

/** Active members of a team who can open this ticket (notices go to nobody else). */
export async function listTeamAgentsWhoCanOpen (db: Db, teamId: number, ticket: Pick<TicketRow, 'status' | 'department_id' | 'assignee_id'>): Promise<Array<{ id: number, name: string, email: string, away_until: number | string | null }>> {
  const query = db('agents as a')
    .join('team_members as tm', 'tm.agent_id', 'a.id')
    .where('tm.team_id', teamId)
    .andWhere('a.active', true)
    .orderBy('a.id')
    .select('a.id', 'a.name', 'a.email', 'a.away_until')
  return await agentsWhoMay(query, ticket, 'read')
}

/**
 * What a queue's tickets depend on besides its name, as values a prepared read takes: who
 * looks (their scope, their own id, their teams), when, and the filters chosen.
 */
type QueueView = {
  scope: AgentScope
  me: number
  teams: readonly number[]
  now: number
  filters: FilterValues
}

function queueView (access: AgentAccess, q: Pick<QueueQuery, 'filters' | 'now'>): QueueView {
  return {
    scope: agentScope(access, 'read'),
    me: access.id,
    teams: access.teamIds.length > 0 ? access.teamIds : [-1],
    now: q.now ?? Date.now(),
    filters: filterValues(q.filters)
  }
}

function inQueue (query: Knex.QueryBuilder, queue: QueueName, { me, teams, now }: Pick<QueueView, 'me' | 'teams' | 'now'>): Knex.QueryBuilder {
  switch (queue) {
    case 'overdue': return query.where('t.status', 'open').andWhere('t.sla_due_at', '<=', now)
    case 'unassigned': return query.where('t.status', 'open').whereNull('t.assignee_id')
    case 'mine': return query.where('t.assignee_id', me).whereIn('t.status', ['open', 'pending'])
    case 'teams': return query.whereIn('t.team_id', teams).whereIn('t.status', ['open', 'pending'])
    default: return query.where('t.status', queue)
  }
}

export function filtered (query: Knex.QueryBuilder, filters: QueueFilters): Knex.QueryBuilder {
  return whereFilters(query, filterValues(filters))
}

/** The filters as values a prepared read takes: "assigned to nobody" is a null, which changes the SQL. */
type FilterValues = {
  department: number | undefined
  topic: number | undefined
  priority: number | undefined
  assignee: number | null | undefined
  status: TicketStatus | undefined
  team: number | undefined
}

function filterValues ({ department, topic, priority, assignee, status, team }: QueueFilters): FilterValues {
  return { department, topic, priority, assignee: assignee === 0 ? null : assignee, status, team }
}

function whereFilters (query: Knex.QueryBuilder, { department, topic, priority, assignee, status, team }: FilterValues): Knex.QueryBuilder {
  if (department !== undefined) query.where('t.department_id', department)
  if (topic !== undefined) query.where('t.help_topic_id', topic)
  if (priority !== undefined) query.where('t.priority', priority)
  if (assignee === null) query.whereNull('t.assignee_id')
  else if (assignee !== undefined) query.where('t.assignee_id', assignee)
  if (status !== undefined) query.where('t.status', status)
  if (team !== undefined) query.where('t.team_id', team)
  return query
}

/**
 * One page of a queue, newest first. The page's ids are found first on the tickets table
 * alone (index order, LIMIT), then only those rows are joined to the names a page shows.
 */
export async function listQueue (db: Db, access: AgentAccess, q: QueueQuery): Promise<QueueRow[]> {
  if (q.sort === 'due') return await listQueueByDue(db, access, q)
  const page = queuePage(db, { view: queueView(access, q), after: q.after ?? null }, { queue: q.queue, sort: q.sort, limit: q.limit })
  return await readList(db, listOf(page, queueColumnNames, toQueueRows<QueueRow>))
}

const queuePage = preparedRead((db, { view, after }: { view: QueueView, after: { value: number, id: number } | null },
  { queue, sort, limit }: { queue: QueueName, sort: SortKey, limit: number }) => {
  const column = `t.${sortColumns[sort]}`
  const order = [{ column, order: 'desc' as const }, { column: 't.id', order: 'desc' as const }]
  const page = queueScope(db, queue, view)
  if (after) {
    // Row-value comparison keeps the page boundary exact when many rows share a sort value.
    page.whereRaw(`(${column}, t.id) < (?, ?)`, [after.value, after.id])
  }
  // Overdue is a short list, found through its (status, sla_due_at) index and then sorted.
  // Ordered through an index in activity order instead, SQLite walked every open ticket
  // looking for overdue ones (338 ms at a million tickets): the unary plus (a no-op on these
  // numeric columns) keeps any planner from reading that index for the order.
  if (queue === 'overdue') page.orderByRaw(`+${column} desc, t.id desc`)
  else page.orderBy(order)
  page.limit(limit)
  return namedRows(db, db.from(page.as('page')).join('tickets as t', 't.id', 'page.id').orderBy(order))
})

/** The tickets of a queue view (`t`), before order and cursor. */
function queueScope (db: Db, queue: QueueName, view: QueueView): Knex.QueryBuilder {
  const page = db('tickets as t').select('t.id').whereNull('t.deleted_at')
  whereInScope(page, view.scope, 'read')
  inQueue(page, queue, view)
  whereFilters(page, view.filters)
  return page
}

/** What a queue row shows, with the names joined onto its ticket (`t`). */
const queueColumns = ['t.id', 't.number', 't.subject', 't.status', 't.priority', 't.answered', 't.created_at', 't.last_activity_at', 't.sla_due_at',
  'd.name as department_name', 'r.name as requester_name', 'r.email as requester_email', 'a.name as assignee_name', 'tm.name as team_name']

const queueColumnNames = queueColumns.map(outputName)

/** `query` (over tickets `t`) joined to the names a queue row shows. */
function namedRows (db: Db, query: Knex.QueryBuilder, extra: string[] = []): Knex.QueryBuilder {
  return query
    .join('requesters as r', 'r.id', 't.requester_id')
    .join('departments as d', 'd.id', 't.department_id')
    .leftJoin('agents as a', 'a.id', 't.assignee_id')
    .leftJoin('teams as tm', 'tm.id', 't.team_id')
    .select(selectList(db, queueColumns), ...extra)
}

function toQueueRows<Row extends QueueRow> (rows: Row[]): Row[] {
  for (const row of rows) row.answered = Boolean(row.answered)
  return rows
}

/** The queue rows of `query` (over tickets `t`), joined to the names they show, in its order. */
async function selectNames<Extra extends object = object> (db: Db, query: Knex.QueryBuilder, extra: string[] = []): Promise<Array<QueueRow & Extra>> {
  // The constant list when there is nothing extra: readLists writes its SQL once per list.
  const names = extra.length === 0 ? queueColumnNames : [...queueColumnNames, ...extra.map(outputName)]
  return await readList(db, listOf(namedRows(db, query, extra), names, toQueueRows<QueueRow & Extra>))
}

/** The rows of a page of ticket ids (`page` selects `t.id`), joined to the names a queue shows. */
export async function withNames<Extra extends object = object> (db: Db, page: Knex.QueryBuilder, order: Array<{ column: string, order: 'asc' | 'desc' }>, extra: string[] = []): Promise<Array<QueueRow & Extra>> {
  return await selectNames<Extra>(db, db.from(page.as('page')).join('tickets as t', 't.id', 'page.id').orderBy(order), extra)
}

/** The cursor value of a row without a due time: those come after every due one. */
export const noDueCursor = -1

/**
 * A queue soonest due first, then the tickets without a due time (oldest first). Two
 * keyset reads, each in index order: databases disagree on where NULLs sort, and a
 * COALESCE in the ORDER BY would give up the (status, sla_due_at, id) index.
 */
async function listQueueByDue (db: Db, access: AgentAccess, q: QueueQuery): Promise<QueueRow[]> {
  const ids: number[] = []
  const view = queueView(access, q)
  if (q.after?.value !== noDueCursor) {
    const due = queueScope(db, q.queue, view).whereNotNull('t.sla_due_at').orderBy([{ column: 't.sla_due_at', order: 'asc' }, { column: 't.id', order: 'asc' }]).limit(q.limit)
    if (q.after) due.whereRaw('(t.sla_due_at, t.id) > (?, ?)', [q.after.value, q.after.id])
    ids.push(...(await due).map((row: { id: number }) => row.id))
  }
  if (ids.length < q.limit) {
    const none = queueScope(db, q.queue, view).whereNull('t.sla_due_at').orderBy('t.id').limit(q.limit - ids.length)
    if (q.after?.value === noDueCursor) none.where('t.id', '>', q.after.id)
    ids.push(...(await none).map((row: { id: number }) => row.id))
  }
  if (ids.length === 0) return []
  const rows = await selectNames(db, db('tickets as t').whereIn('t.id', ids))
  const position = new Map(ids.map((id, i) => [id, i]))
  return rows.sort((a, b) => position.get(a.id)! - position.get(b.id)!)
}

/**
 * How many tickets each queue holds for this agent. The visibility rule (my departments OR
 * assigned to me) is split into two disjoint counts so each one runs on an index.
 */
export async function countQueues (db: Db, access: AgentAccess, now = Date.now()): Promise<Record<QueueName, number>> {
  const departments = Object.keys(access.roles).map(Number)
  const view = queueView(access, { filters: {}, now })
  const scopes: Array<(q: Knex.QueryBuilder) => Knex.QueryBuilder> = access.isAdmin
    ? [(q) => q]
    : [
        (q) => q.whereIn('t.department_id', departments.length > 0 ? departments : [-1]),
        (q) => q.where('t.assignee_id', access.id).whereNotIn('t.department_id', departments.length > 0 ? departments : [-1])
      ]
  const counts = await Promise.all(queueNames.map(async (queue) => {
    let total = 0
    for (const scope of scopes) {
      const [row] = await inQueue(scope(db('tickets as t').count({ n: '*' }).whereNull('t.deleted_at')), queue, view)
      total += Number(row?.n ?? 0)
    }
    return [queue, total] as const
  }))
  return Object.fromEntries(counts) as Record<QueueName, number>
}

/** A ticket by number with the names a page shows, only if this agent may see it. */
export async function findVisibleTicket (db: Db, access: AgentAccess, number: string): Promise<TicketView | undefined> {
  // Anything that cannot be a ticket number (NUL bytes, which PostgreSQL refuses, included) is no ticket.
  if (!ticketNumberPattern.test(number)) return undefined
  const row: TicketView | undefined = await visibleTo(ticketViews(db), access).where('t.number', number).whereNull('t.deleted_at').first()
  return row === undefined ? undefined : toTicketViews([row])[0]
}

const ticketAndSurveyNames = [...ticketViewColumns, ...joinedSurveyNames]

export interface TicketWithSiblings { ticket: TicketView, others: TicketView[], survey: SurveyRow | undefined }

/**
 * A ticket by number (a valid one: see ticketNumberPattern), if this agent may see it, with
 * its survey and its requester's other recent tickets the agent may see, as a list the
 * ticket page reads with the ticket's own lists.
 */
export function visibleTicketWithSiblingsList (db: Db, access: AgentAccess, number: string): ListRead<TicketWithSiblings | undefined> {
  return listOf(ticketWithSiblings(db, { number, scope: agentScope(access, 'read') }), ticketAndSurveyNames,
    (rows: Array<TicketView & Record<string, unknown>>) => {
      const survey = rows[0] === undefined ? undefined : joinedSurvey(rows[0])
      const [ticket, ...others] = toTicketViews(rows)
      return ticket?.number === number ? { ticket, others, survey } : undefined
    })
}

/** The ticket page shows five of the requester's other tickets. */
const siblingsShown = 5

const ticketWithSiblings = preparedRead((db, { number, scope }: { number: string, scope: AgentScope }) => {
  // The ids are found on the tickets table alone; only those rows get their names. The
  // requester's others are read newest first along their index (requester, created), five
  // of them: sorted together with the ticket itself, a requester with 8,000 tickets had all
  // 8,000 read and sorted on every view of any one of them.
  const columns = ['t.id', 't.number', 't.created_at']
  const own = whereInScope(db('tickets as t').where('t.number', number).whereNull('t.deleted_at').select(columns), scope, 'read')
  const others = whereInScope(db('tickets as t')
    .where('t.requester_id', db('tickets').where('number', number).select('requester_id'))
    .whereNot('t.number', number)
    .whereNull('t.deleted_at')
    .select(columns)
    .orderBy('t.created_at', 'desc')
    .limit(siblingsShown), scope, 'read')
  const ids = db.select('*').from(own.as('own')).unionAll((union) => { void union.select('*').from(others.as('others')) })
  // Each ticket's survey rides along (one per ticket at most): the page needs the first's.
  return ticketViews(db, ids)
    .leftJoin('satisfaction_surveys as sv', 'sv.ticket_id', 't.id')
    .select(joinedSurveyColumns('sv'))
    .orderByRaw('case when t.number = ? then 0 else 1 end', [number]).orderBy('t.created_at', 'desc')
})
