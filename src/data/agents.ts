import type { Knex } from 'knex'
import { dialectOfDb, listOf, preparedRead, type Db, type ListRead } from './database.js'
import { preferenceColumns, toPreferences, type AgentPreferences, type PreferenceColumns } from './agent-preferences.js'
import type { NewTicketAudience } from './catalog.js'
import { ticketViews, toTicketViews, type TicketView } from './tickets.js'

export interface AgentRow {
  id: number
  name: string
  email: string
  password_hash: string | null
  is_admin: boolean
  active: boolean
  created_at: number
  /** Set by the agent on their preferences page: no new assignments nor notices until then. */
  away_until: number | null
}

function toAgent (row: AgentRow | undefined): AgentRow | undefined {
  if (row) {
    row.is_admin = Boolean(row.is_admin)
    row.active = Boolean(row.active)
    // MySQL may hand a BIGINT back as a string.
    if (typeof row.away_until === 'string') row.away_until = Number(row.away_until)
  }
  return row
}

export async function findAgent (db: Db, id: number): Promise<AgentRow | undefined> {
  return toAgent(await db<AgentRow>('agents').where({ id }).first())
}

export async function findAgents (db: Db, ids: readonly number[]): Promise<Map<number, AgentRow>> {
  if (ids.length === 0) return new Map()
  const rows: AgentRow[] = await db<AgentRow>('agents').whereIn('id', [...new Set(ids)])
  return new Map(rows.map((row) => [row.id, toAgent(row)!]))
}

export async function findAgentByEmail (db: Db, email: string): Promise<AgentRow | undefined> {
  return toAgent(await db<AgentRow>('agents').where({ email }).first())
}

export const departmentRoles = ['view', 'agent', 'manager'] as const
/** The database allows exactly these (a CHECK constraint on agent_departments.role). */
export type DepartmentRole = typeof departmentRoles[number]

/** The roles that work tickets (answer, assign, close): who may be offered in Assign lists. */
export const workingRoles: readonly DepartmentRole[] = ['agent', 'manager']

/** Who an agent is and where they may work: loaded once per request. */
export interface AgentAccess {
  id: number
  name: string
  email: string
  isAdmin: boolean
  /** Role per department id. */
  roles: Record<number, DepartmentRole>
  teamIds: number[]
  /** Their own time zone, date style, queue page and signature; absent where no agent signed in (the CLI). */
  preferences?: AgentPreferences
}

/** One statement: every staff request loads this, so its roles and teams come along in a union. */
export async function loadAgentAccess (db: Db, agentId: number): Promise<AgentAccess | undefined> {
  const none = (name: string): Knex.Raw => db.raw(`null as ${name}`)
  const rows: Array<Pick<AgentRow, 'id' | 'name' | 'email' | 'is_admin'> & PreferenceColumns & { department_id: number | null, role: DepartmentRole | null, team_id: number | null }> =
    await db('agents as a')
      .leftJoin('agent_departments as ad', 'ad.agent_id', 'a.id')
      .where('a.id', agentId).andWhere('a.active', true)
      .select('a.id', 'a.name', 'a.email', 'a.is_admin', ...preferenceColumns, 'ad.department_id', 'ad.role', none('team_id'))
      .unionAll((q) => {
        void q.from('agents as a')
          .join('team_members as tm', 'tm.agent_id', 'a.id')
          .where('a.id', agentId).andWhere('a.active', true)
          .select('a.id', 'a.name', 'a.email', 'a.is_admin', ...preferenceColumns, none('department_id'), none('role'), 'tm.team_id')
      })
  const agent = rows[0]
  if (!agent) return undefined
  const roles: Record<number, DepartmentRole> = {}
  const teamIds: number[] = []
  for (const row of rows) {
    if (row.department_id !== null && row.role !== null) roles[row.department_id] = row.role
    if (row.team_id !== null) teamIds.push(row.team_id)
  }
  return { id: agent.id, name: agent.name, email: agent.email, isAdmin: Boolean(agent.is_admin), roles, teamIds, preferences: toPreferences(agent) }
}

export async function insertAgent (db: Db, agent: { name: string, email: string, passwordHash: string | null, isAdmin: boolean }, now: number): Promise<number> {
  const [row] = await db('agents').insert({
    name: agent.name,
    email: agent.email,
    password_hash: agent.passwordHash,
    is_admin: agent.isAdmin,
    active: true,
    created_at: now
  }).returning('id')
  return typeof row === 'object' ? row.id : row
}

export async function setAgentPassword (db: Db, agentId: number, passwordHash: string): Promise<void> {
  await db('agents').where({ id: agentId }).update({ password_hash: passwordHash })
}

export async function setDepartmentRole (db: Db, agentId: number, departmentId: number, role: DepartmentRole): Promise<void> {
  await db('agent_departments').insert({ agent_id: agentId, department_id: departmentId, role })
    .onConflict(['agent_id', 'department_id']).merge({ role })
}

export async function addTeamMember (db: Db, teamId: number, agentId: number): Promise<void> {
  await db('team_members').insert({ team_id: teamId, agent_id: agentId }).onConflict(['team_id', 'agent_id']).ignore()
}

export async function countAgents (db: Db): Promise<number> {
  const [row] = await db('agents').count({ n: '*' })
  return Number(row?.n ?? 0)
}

export interface NamedRow { id: number, name: string }

/** Every agent, disabled ones too: the names a page shows beside what they did. */
export async function listAgentNames (db: Db): Promise<NamedRow[]> {
  return await db('agents').orderBy('name').select('id', 'name')
}

/** An agent who may be given tickets, and the departments where they may be. */
export interface AssignableAgent extends NamedRow {
  isAdmin: boolean
  departmentIds: number[]
}

/**
 * Agents who can be given tickets: enabled, with a password (an invitation not yet
 * accepted does not count), and an administrator or holding a working role somewhere.
 */
export async function listAssignableAgents (db: Db): Promise<AssignableAgent[]> {
  const rows: Array<{ id: number, name: string, is_admin: boolean | number, department_id: number | null }> = await db('agents as a')
    .leftJoin('agent_departments as ad', (j) => { j.on('ad.agent_id', 'a.id').andOnIn('ad.role', [...workingRoles]) })
    .where('a.active', true).whereNotNull('a.password_hash')
    .andWhere((q) => { void q.where('a.is_admin', true).orWhereNotNull('ad.department_id') })
    .orderBy(['a.name', 'a.id'])
    .select('a.id', 'a.name', 'a.is_admin', 'ad.department_id')
  const agents = new Map<number, AssignableAgent>()
  for (const row of rows) {
    const agent = agents.get(row.id) ?? { id: row.id, name: row.name, isAdmin: Boolean(row.is_admin), departmentIds: [] }
    if (row.department_id !== null) agent.departmentIds.push(row.department_id)
    agents.set(row.id, agent)
  }
  return [...agents.values()]
}

/** Whether the agent may be given a ticket of the department (see listAssignableAgents). */
export async function isAssignable (db: Db, agentId: number, departmentId: number): Promise<boolean> {
  const row = await db('agents as a')
    .leftJoin('agent_departments as ad', (j) => { j.on('ad.agent_id', 'a.id').andOnVal('ad.department_id', departmentId) })
    .where('a.id', agentId).andWhere('a.active', true).whereNotNull('a.password_hash')
    .andWhere((q) => { void q.where('a.is_admin', true).orWhereIn('ad.role', [...workingRoles]) })
    .first('a.id')
  return row !== undefined
}

/** An agent as the admin pages list them: with their roles and any invitation outstanding. */
export interface AgentListing {
  id: number
  name: string
  email: string
  isAdmin: boolean
  active: boolean
  invited: boolean
  /** When the newest unused invitation link stops working; null when there is none. */
  invitationExpiresAt: number | null
  roles: Record<number, DepartmentRole>
  createdAt: number
}

export async function listAgentsWithRoles (db: Db, agentId?: number): Promise<AgentListing[]> {
  const agents = db<AgentRow>('agents').orderBy(['name', 'id'])
  if (agentId !== undefined) void agents.where({ id: agentId })
  const rows = (await agents.select('id', 'name', 'email', 'password_hash', 'is_admin', 'active', 'created_at', 'away_until')).map((row) => toAgent(row)!)
  if (rows.length === 0) return []
  const ids = rows.map((row) => row.id)
  const [roles, invitations]: [Array<{ agent_id: number, department_id: number, role: DepartmentRole }>, Array<{ agent_id: number, expires_at: number }>] = await Promise.all([
    db('agent_departments').whereIn('agent_id', ids).select('agent_id', 'department_id', 'role'),
    db('password_resets').whereIn('agent_id', ids).whereNull('used_at').groupBy('agent_id').select('agent_id', db.raw('max(expires_at) as expires_at'))
  ])
  return rows.map((row) => {
    const invitation = invitations.find((i) => i.agent_id === row.id)
    return {
      id: row.id,
      name: row.name,
      email: row.email,
      isAdmin: row.is_admin,
      active: row.active,
      invited: row.password_hash === null,
      invitationExpiresAt: row.password_hash === null && invitation ? Number(invitation.expires_at) : null,
      roles: Object.fromEntries(roles.filter((r) => r.agent_id === row.id).map((r) => [r.department_id, r.role])),
      createdAt: Number(row.created_at)
    }
  })
}

export async function findAgentListing (db: Db, agentId: number): Promise<AgentListing | undefined> {
  return (await listAgentsWithRoles(db, agentId))[0]
}

export async function updateAgentDetails (db: Db, agentId: number, patch: Partial<Pick<AgentRow, 'name' | 'email' | 'is_admin' | 'active'>>): Promise<void> {
  if (Object.keys(patch).length > 0) await db('agents').where({ id: agentId }).update(patch)
}

export async function deleteDepartmentRole (db: Db, agentId: number, departmentId: number): Promise<void> {
  await db('agent_departments').where({ agent_id: agentId, department_id: departmentId }).delete()
}

/**
 * Enabled administrators who can sign in (they chose a password), other than `exceptAgentId`.
 * On PostgreSQL and MySQL the administrators' rows are locked first, always in id order, so
 * two administrators disabling each other at once are serialised and the second sees the
 * first's change (SQLite's write lock at the transaction's start does that already).
 */
export async function countOtherActiveAdmins (db: Db, exceptAgentId: number): Promise<number> {
  if (dialectOfDb(db) !== 'sqlite') await db('agents').where({ is_admin: true }).orderBy('id').forUpdate().select('id')
  const [row] = await db('agents').where({ is_admin: true, active: true }).whereNotNull('password_hash').andWhereNot('id', exceptAgentId).count({ n: '*' })
  return Number(row?.n ?? 0)
}

/** Removes an agent who never signed in (a revoked invitation); false when tickets name them. */
export async function deleteInvitedAgent (db: Db, agentId: number): Promise<boolean> {
  const assigned = await db('tickets').where({ assignee_id: agentId }).first('id')
  if (assigned) return false
  return await db('agents').where({ id: agentId }).whereNull('password_hash').delete() === 1
}

/** Tickets still in someone's hands (not closed, not in the trash) assigned to the agent. */
export async function listOpenTicketsAssignedTo (db: Db, agentId: number): Promise<TicketView[]> {
  return toTicketViews(await ticketViews(db).where('t.assignee_id', agentId).whereNot('t.status', 'closed').whereNull('t.deleted_at').orderBy('t.id'))
}

export async function listTeams (db: Db): Promise<NamedRow[]> {
  return await db('teams').orderBy('name').select('id', 'name')
}

export async function insertTeam (db: Db, name: string): Promise<number> {
  const [row] = await db('teams').insert({ name }).returning('id')
  return typeof row === 'object' ? row.id : row
}

/**
 * Takes one sign-in slot for `subject` (an account or an address) before its password is
 * checked. One conditional UPDATE does the counting, so parallel requests on any number of
 * instances are serialised by the database's row lock: once `limit` slots are taken within
 * the window (measured from the last one taken), every further request is refused.
 */
export async function takeSignInSlot (db: Db, subject: string, limit: number, windowMs: number, now: number): Promise<boolean> {
  const stale = now - windowMs
  await db('sign_in_throttles').insert({ subject, attempts: 0, last_attempt_at: now }).onConflict('subject').ignore()
  // MySQL applies SET assignments left to right, each seeing the ones before: `attempts`
  // must come first so its CASE still reads the old last_attempt_at.
  const taken = await db('sign_in_throttles')
    .where({ subject })
    .andWhere((q) => { void q.where('attempts', '<', limit).orWhere('last_attempt_at', '<=', stale) })
    .update({
      attempts: db.raw('CASE WHEN last_attempt_at <= ? THEN 1 ELSE attempts + 1 END', [stale]),
      last_attempt_at: now
    })
  return taken === 1
}

/** Gives back a slot taken by an attempt that turned out right, so successes never lock anyone out. */
export async function returnSignInSlot (db: Db, subject: string): Promise<void> {
  await db('sign_in_throttles').where({ subject }).andWhere('attempts', '>', 0).decrement('attempts', 1)
}

export async function clearSignInThrottle (db: Db, subject: string): Promise<void> {
  await db('sign_in_throttles').where({ subject }).delete()
}

export async function deleteStaleSignInThrottles (db: Db, before: number): Promise<void> {
  await db('sign_in_throttles').where('last_attempt_at', '<=', before).delete()
}

export type SignInOutcome = 'succeeded' | 'failed' | 'locked' | 'password_reset'

export interface SignInEvent {
  id: number
  email: string
  agent_id: number | null
  address: string
  outcome: SignInOutcome
  created_at: number
}

export async function recordSignInEvent (db: Db, event: Omit<SignInEvent, 'id'>): Promise<void> {
  await db('sign_in_events').insert(event)
}

export async function listSignInEvents (db: Db, limit: number): Promise<SignInEvent[]> {
  return await db<SignInEvent>('sign_in_events').orderBy('id', 'desc').limit(limit)
    .select('id', 'email', 'agent_id', 'address', 'outcome', 'created_at')
}

export async function deleteSignInEventsBefore (db: Db, before: number): Promise<void> {
  await db('sign_in_events').where('created_at', '<', before).delete()
}

export async function findPasswordReset (db: Db, tokenHash: string): Promise<{ id: number, agent_id: number, expires_at: number, used_at: number | null } | undefined> {
  return await db('password_resets').where({ token_hash: tokenHash }).first()
}

/** Marks a reset link used; false when another request used it first. */
export async function usePasswordReset (db: Db, id: number, now: number): Promise<boolean> {
  return await db('password_resets').where({ id }).whereNull('used_at').update({ used_at: now }) === 1
}

/** Retires every reset link of the agent still outstanding. */
export async function retirePasswordResets (db: Db, agentId: number, now: number): Promise<void> {
  await db('password_resets').where({ agent_id: agentId }).whereNull('used_at').update({ used_at: now })
}

/** The agents of these departments in one of `roles` who can sign in (invitation accepted). */
function departmentsAgents (db: Db, departmentIds: readonly number[], roles: readonly DepartmentRole[]): Knex.QueryBuilder {
  return db('agents as a')
    .join('agent_departments as ad', 'ad.agent_id', 'a.id')
    .whereIn('ad.department_id', [...new Set(departmentIds)])
    .whereIn('ad.role', roles)
    .andWhere('a.active', true)
    .whereNotNull('a.password_hash')
    .orderBy('a.id')
}

export type DepartmentsAgent = { id: number, name: string, email: string, away_until: number | string | null, department_id: number, role: DepartmentRole, new_ticket_notice: NewTicketAudience }

/**
 * The working agents of each of `departmentIds`, in one query, as a list read with others:
 * each with when they are back if away, their role there, and what the department tells of
 * its new tickets.
 */
export function departmentsAgentsList (db: Db, departmentIds: readonly number[]): ListRead<DepartmentsAgent[]> {
  return listOf(departmentsAgentsWithNotice(db, { departmentIds: [...new Set(departmentIds)], roles: workingRoles }), ['id', 'name', 'email', 'away_until', 'department_id', 'role', 'new_ticket_notice'])
}

const departmentsAgentsWithNotice = preparedRead((db, { departmentIds, roles }: { departmentIds: readonly number[], roles: readonly DepartmentRole[] }) =>
  departmentsAgents(db, departmentIds, roles)
    .join('departments as d', 'd.id', 'ad.department_id')
    .select('a.id', 'a.name', 'a.email', 'a.away_until', 'ad.department_id', 'ad.role', 'd.new_ticket_notice'))

/** Agents who work a department (agent or manager role, or only `roles`), with when they are back if away. */
export async function listDepartmentAgents (db: Db, departmentId: number, roles: readonly DepartmentRole[] = workingRoles): Promise<Array<{ id: number, name: string, email: string, away_until: number | string | null }>> {
  return await departmentsAgents(db, [departmentId], roles).select('a.id', 'a.name', 'a.email', 'a.away_until')
}
