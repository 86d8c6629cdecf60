import { insertedId, listOf, outputName, preparedRead, type Db, type ListRead } from './database.js'

/** Who is told when a ticket arrives in a department. */
export const newTicketAudiences = ['agents', 'managers', 'nobody'] as const
export type NewTicketAudience = typeof newTicketAudiences[number]

export interface HelpTopicRow {
  id: number
  name: string
  department_id: number
  /** Null: the department's default priority. */
  default_priority: number | null
  default_team_id: number | null
  default_agent_id: number | null
  active: boolean
  public: boolean
  sort_order: number
}

/** A department as menus list it; archived ones stay listed for the tickets they hold. */
export interface DepartmentRow {
  id: number
  name: string
  archived: boolean
}

export interface DepartmentDetail {
  id: number
  name: string
  archived_at: number | null
  sender_name: string | null
  sender_address: string | null
  default_priority: number
  new_ticket_notice: NewTicketAudience
}

export interface DepartmentSummary extends DepartmentDetail {
  open_tickets: number
  addresses: string[]
}

const topicColumns = ['h.id', 'h.name', 'h.department_id', 'h.default_priority', 'h.default_team_id', 'h.default_agent_id', 'h.active', 'h.public', 'h.sort_order']

function toTopic<T extends HelpTopicRow | undefined> (row: T): T {
  if (row) {
    row.active = Boolean(row.active)
    row.public = Boolean(row.public)
  }
  return row
}

/** The topics the portal offers: public, not retired, in a department that is not archived. */
export async function listActiveHelpTopics (db: Db): Promise<HelpTopicRow[]> {
  const rows: HelpTopicRow[] = await db('help_topics as h').join('departments as d', 'd.id', 'h.department_id')
    .where({ 'h.active': true, 'h.public': true }).whereNull('d.archived_at')
    .orderBy(['h.sort_order', 'h.name']).select(topicColumns)
  return rows.map(toTopic)
}

export type NewTicketTopic = HelpTopicRow & { priority: number, department_archived: boolean }

/**
 * These topics whatever their state, with the priority their tickets start with and whether
 * their department is archived, as a list read with others: new tickets opened together
 * read their topics at once.
 */
export function helpTopicsList (db: Db, ids: readonly number[]): ListRead<Map<number, NewTicketTopic>> {
  return listOf(topicsByIds(db, { ids: [...new Set(ids)] }), topicsByIdsColumns, (rows: Array<HelpTopicRow & { priority: number, department_archived_at: number | null }>) =>
    new Map(rows.map(({ department_archived_at: archivedAt, ...row }) => [row.id, { ...toTopic(row), department_archived: archivedAt !== null }])))
}

const topicsByIdsColumns = [...topicColumns.map(outputName), 'priority', 'department_archived_at']

const topicsByIds = preparedRead((db, { ids }: { ids: readonly number[] }) => db('help_topics as h').join('departments as d', 'd.id', 'h.department_id')
  .whereIn('h.id', ids)
  .select([...topicColumns, db.raw('coalesce(h.default_priority, d.default_priority) as priority'), 'd.archived_at as department_archived_at']))

/** A topic whatever its state, for a follow-up that keeps its old ticket's topic. */
export async function findHelpTopic (db: Db, id: number): Promise<(HelpTopicRow & { priority: number }) | undefined> {
  const row = await db('help_topics as h').join('departments as d', 'd.id', 'h.department_id')
    .where({ 'h.id': id })
    .first([...topicColumns, db.raw('coalesce(h.default_priority, d.default_priority) as priority')])
  return toTopic(row as (HelpTopicRow & { priority: number }) | undefined)
}

export async function listDepartments (db: Db): Promise<DepartmentRow[]> {
  const rows: Array<{ id: number, name: string, archived_at: number | null }> = await db('departments').orderBy('name').select('id', 'name', 'archived_at')
  return rows.map((row) => ({ id: row.id, name: row.name, archived: row.archived_at !== null }))
}

export async function findDepartment (db: Db, id: number): Promise<DepartmentDetail | undefined> {
  const row = await db<DepartmentDetail>('departments').where({ id })
    .first('id', 'name', 'archived_at', 'sender_name', 'sender_address', 'default_priority', 'new_ticket_notice')
  if (row?.archived_at != null) row.archived_at = Number(row.archived_at)
  return row
}

export async function findDepartmentByName (db: Db, name: string): Promise<{ id: number } | undefined> {
  return await db('departments').whereRaw('lower(name) = lower(?)', [name]).first('id')
}

/** Every department with its open (or pending) tickets counted and its inbound addresses. */
export async function listDepartmentSummaries (db: Db): Promise<DepartmentSummary[]> {
  const open = db('tickets').whereIn('status', ['open', 'pending']).whereNull('deleted_at')
    .groupBy('department_id').select('department_id').count({ n: '*' }).as('o')
  const [rows, addresses] = await Promise.all([
    db('departments as d').leftJoin(open, 'o.department_id', 'd.id').orderBy('d.name')
      .select('d.id', 'd.name', 'd.archived_at', 'd.sender_name', 'd.sender_address', 'd.default_priority', 'd.new_ticket_notice', 'o.n'),
    db('department_addresses').orderBy('address').select('department_id', 'address')
  ])
  return (rows as Array<DepartmentDetail & { n: number | string | null }>).map(({ n, ...row }) => ({
    ...row,
    archived_at: row.archived_at === null ? null : Number(row.archived_at),
    open_tickets: Number(n ?? 0),
    addresses: (addresses as Array<{ department_id: number, address: string }>).filter((a) => a.department_id === row.id).map((a) => a.address)
  }))
}

export async function insertDepartment (db: Db, department: Omit<DepartmentDetail, 'id' | 'archived_at'>, at: number): Promise<number> {
  const [row] = await db('departments').insert({ ...department, created_at: at }).returning('id')
  return insertedId(row)
}

export async function updateDepartment (db: Db, id: number, patch: Partial<Omit<DepartmentDetail, 'id'>>): Promise<void> {
  await db('departments').where({ id }).update(patch)
}

export async function deleteDepartment (db: Db, id: number): Promise<void> {
  await db('departments').where({ id }).delete()
}

export interface DepartmentAddress { id: number, department_id: number, address: string }

export async function listDepartmentAddresses (db: Db, departmentId: number): Promise<DepartmentAddress[]> {
  return await db<DepartmentAddress>('department_addresses').where({ department_id: departmentId }).orderBy('address').select('id', 'department_id', 'address')
}

/** Who an inbound address belongs to, with that department's name. */
export async function findDepartmentAddress (db: Db, address: string): Promise<(DepartmentAddress & { department_name: string }) | undefined> {
  return await db('department_addresses as a').join('departments as d', 'd.id', 'a.department_id')
    .where('a.address', address).first('a.id', 'a.department_id', 'a.address', 'd.name as department_name')
}

export async function insertDepartmentAddress (db: Db, departmentId: number, address: string): Promise<number> {
  const [row] = await db('department_addresses').insert({ department_id: departmentId, address }).returning('id')
  return insertedId(row)
}

export async function deleteDepartmentAddress (db: Db, departmentId: number, id: number): Promise<DepartmentAddress | undefined> {
  const row = await db<DepartmentAddress>('department_addresses').where({ id, department_id: departmentId }).first('id', 'department_id', 'address')
  if (row) await db('department_addresses').where({ id }).delete()
  return row
}

/** Every ticket a department holds, trashed ones included (they still point at it). */
export async function countDepartmentTickets (db: Db, departmentId: number): Promise<number> {
  const [row] = await db('tickets').where({ department_id: departmentId }).count({ n: '*' })
  return Number(row?.n ?? 0)
}

export async function listDepartmentTopicNames (db: Db, departmentId: number): Promise<string[]> {
  return (await db('help_topics').where({ department_id: departmentId }).orderBy('name').select('name') as Array<{ name: string }>).map((row) => row.name)
}

/**
 * Moves every ticket of one department to another, with a `transferred` event by the admin
 * on each. Returns how many.
 */
export async function moveDepartmentTickets (db: Db, fromId: number, toId: number, agentId: number, at: number): Promise<number> {
  const ids = (await db('tickets').where({ department_id: fromId }).orderBy('id').select('id') as Array<{ id: number }>).map((row) => row.id)
  const before = JSON.stringify({ department_id: fromId })
  const after = JSON.stringify({ department_id: toId })
  // In slices: one statement for thousands of rows would pass SQLite's bound-variable limit.
  for (let i = 0; i < ids.length; i += 500) {
    await db('events').insert(ids.slice(i, i + 500).map((id) => ({
      ticket_id: id, type: 'transferred', actor_kind: 'agent', agent_id: agentId, requester_id: null, before_state: before, after_state: after, created_at: at
    })))
  }
  await db('tickets').where({ department_id: fromId }).update({ department_id: toId, last_activity_at: at })
  return ids.length
}

/** The sender a department's mail goes out as, for the ticket an outbox row is about. */
export async function findTicketSender (db: Db, ticketId: number): Promise<{ name: string | null, address: string } | undefined> {
  const row = await db('tickets as t').join('departments as d', 'd.id', 't.department_id')
    .where('t.id', ticketId).whereNotNull('d.sender_address').first('d.sender_name as name', 'd.sender_address as address')
  return row as { name: string | null, address: string } | undefined
}

/** Whether a department sends its mail as this address (mail from it is our own, come back). */
export async function isDepartmentSender (db: Db, address: string): Promise<boolean> {
  return await db('departments').where({ sender_address: address }).first('id') !== undefined
}

export interface HelpTopicSummary extends HelpTopicRow {
  department_name: string
  department_archived: boolean
  team_name: string | null
  agent_name: string | null
}

export async function listHelpTopicSummaries (db: Db): Promise<HelpTopicSummary[]> {
  const rows: Array<HelpTopicSummary & { archived_at: number | null }> = await db('help_topics as h')
    .join('departments as d', 'd.id', 'h.department_id')
    .leftJoin('teams as tm', 'tm.id', 'h.default_team_id')
    .leftJoin('agents as a', 'a.id', 'h.default_agent_id')
    .orderBy([{ column: 'h.active', order: 'desc' }, 'h.sort_order', 'h.name'])
    .select([...topicColumns, 'd.name as department_name', 'd.archived_at', 'tm.name as team_name', 'a.name as agent_name'])
  return rows.map(({ archived_at: archivedAt, ...row }) => ({ ...toTopic(row), department_archived: archivedAt !== null }))
}

export async function findHelpTopicByName (db: Db, name: string): Promise<{ id: number } | undefined> {
  return await db('help_topics').whereRaw('lower(name) = lower(?)', [name]).first('id')
}

export type HelpTopicFields = Omit<HelpTopicRow, 'id'>

export async function insertHelpTopic (db: Db, topic: HelpTopicFields): Promise<number> {
  // `priority` is the column default_priority replaced; kept filled for what still reads it (bench/seed.ts).
  const [row] = await db('help_topics').insert({ ...topic, priority: topic.default_priority ?? 2 }).returning('id')
  return insertedId(row)
}

export async function updateHelpTopic (db: Db, id: number, patch: Partial<HelpTopicFields>): Promise<void> {
  await db('help_topics').where({ id }).update(patch)
}

export async function listHelpTopics (db: Db): Promise<Array<{ id: number, name: string }>> {
  return await db('help_topics').orderBy('name').select('id', 'name')
}

export interface TeamRow { id: number, name: string, lead_id: number | null }

export async function findTeam (db: Db, id: number): Promise<TeamRow | undefined> {
  return await db('teams').where({ id }).first('id', 'name', 'lead_id')
}

export async function findTeamByName (db: Db, name: string): Promise<{ id: number } | undefined> {
  return await db('teams').whereRaw('lower(name) = lower(?)', [name]).first('id')
}

export interface TeamSummary extends TeamRow { lead_name: string | null, members: number, open_tickets: number }

export async function listTeamSummaries (db: Db): Promise<TeamSummary[]> {
  const members = db('team_members').groupBy('team_id').select('team_id').count({ n: '*' }).as('m')
  const open = db('tickets').whereIn('status', ['open', 'pending']).whereNull('deleted_at').whereNotNull('team_id')
    .groupBy('team_id').select('team_id').count({ n: '*' }).as('o')
  const rows: Array<TeamRow & { lead_name: string | null, m: number | string | null, o: number | string | null }> = await db('teams as t')
    .leftJoin('agents as a', 'a.id', 't.lead_id')
    .leftJoin(members, 'm.team_id', 't.id')
    .leftJoin(open, 'o.team_id', 't.id')
    .orderBy('t.name')
    .select('t.id', 't.name', 't.lead_id', 'a.name as lead_name', 'm.n as m', 'o.n as o')
  return rows.map(({ m, o, ...row }) => ({ ...row, members: Number(m ?? 0), open_tickets: Number(o ?? 0) }))
}

export async function insertTeam (db: Db, name: string): Promise<number> {
  const [row] = await db('teams').insert({ name }).returning('id')
  return insertedId(row)
}

export async function updateTeam (db: Db, id: number, patch: Partial<Omit<TeamRow, 'id'>>): Promise<void> {
  await db('teams').where({ id }).update(patch)
}

export async function listTeamMembers (db: Db, teamId: number): Promise<Array<{ id: number, name: string, email: string, active: boolean }>> {
  const rows: Array<{ id: number, name: string, email: string, active: boolean }> = await db('agents as a').join('team_members as tm', 'tm.agent_id', 'a.id')
    .where('tm.team_id', teamId).orderBy('a.name').select('a.id', 'a.name', 'a.email', 'a.active')
  return rows.map((row) => ({ ...row, active: Boolean(row.active) }))
}

export async function isTeamMember (db: Db, teamId: number, agentId: number): Promise<boolean> {
  return await db('team_members').where({ team_id: teamId, agent_id: agentId }).first('agent_id') !== undefined
}

export async function removeTeamMember (db: Db, teamId: number, agentId: number): Promise<boolean> {
  return await db('team_members').where({ team_id: teamId, agent_id: agentId }).delete() > 0
}

/** Tickets still to be worked (open or pending) that name the team. */
export async function countOpenTeamTickets (db: Db, teamId: number): Promise<number> {
  const [row] = await db('tickets').where({ team_id: teamId }).whereIn('status', ['open', 'pending']).count({ n: '*' })
  return Number(row?.n ?? 0)
}

/** Removes a team; finished tickets and topics that named it keep no team. */
export async function deleteTeam (db: Db, teamId: number): Promise<void> {
  await db('tickets').where({ team_id: teamId }).update({ team_id: null })
  await db('help_topics').where({ default_team_id: teamId }).update({ default_team_id: null })
  await db('team_members').where({ team_id: teamId }).delete()
  await db('teams').where({ id: teamId }).delete()
}
