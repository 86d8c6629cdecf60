import type { Knex } from 'knex'
import type { Db } from './database.js'

export interface AgentRow {
  id: number
  name: string
  email: string
  password_hash: string | null
  is_admin: boolean
  active: boolean
  created_at: number
}

function toAgent (row: AgentRow | undefined): AgentRow | undefined {
  if (row) {
    row.is_admin = Boolean(row.is_admin)
    row.active = Boolean(row.active)
  }
  return row
}

export async function findAgent (db: Db, id: number): Promise<AgentRow | undefined> {
  return toAgent(await db<AgentRow>('agents').where({ id }).first())
}

export async function findAgentByEmail (db: Db, email: string): Promise<AgentRow | undefined> {
  return toAgent(await db<AgentRow>('agents').where({ email }).first())
}

export type DepartmentRole = 'view' | 'agent' | 'manager'

/** Who an agent is and where they may work: loaded once per request. */
export interface AgentAccess {
  id: number
  name: string
  email: string
  isAdmin: boolean
  /** Role per department id. */
  roles: Record<number, DepartmentRole>
  teamIds: number[]
}

/** One statement: every staff request loads this, so its roles and teams come along in a union. */
export async function loadAgentAccess (db: Db, agentId: number): Promise<AgentAccess | undefined> {
  const none = (name: string): Knex.Raw => db.raw(`null as ${name}`)
  const rows: Array<Pick<AgentRow, 'id' | 'name' | 'email' | 'is_admin'> & { department_id: number | null, role: DepartmentRole | null, team_id: number | null }> =
    await db('agents as a')
      .leftJoin('agent_departments as ad', 'ad.agent_id', 'a.id')
      .where('a.id', agentId).andWhere('a.active', true)
      .select('a.id', 'a.name', 'a.email', 'a.is_admin', 'ad.department_id', 'ad.role', none('team_id'))
      .unionAll((q) => {
        void q.from('agents as a')
          .join('team_members as tm', 'tm.agent_id', 'a.id')
          .where('a.id', agentId).andWhere('a.active', true)
          .select('a.id', 'a.name', 'a.email', 'a.is_admin', none('department_id'), none('role'), 'tm.team_id')
      })
  const agent = rows[0]
  if (!agent) return undefined
  const roles: Record<number, DepartmentRole> = {}
  const teamIds: number[] = []
  for (const row of rows) {
    if (row.department_id !== null && row.role !== null) roles[row.department_id] = row.role
    if (row.team_id !== null) teamIds.push(row.team_id)
  }
  return { id: agent.id, name: agent.name, email: agent.email, isAdmin: Boolean(agent.is_admin), roles, teamIds }
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

export async function listActiveAgents (db: Db): Promise<NamedRow[]> {
  return await db('agents').where({ active: true }).orderBy('name').select('id', 'name')
}

export async function listTeams (db: Db): Promise<NamedRow[]> {
  return await db('teams').orderBy('name').select('id', 'name')
}

export async function insertTeam (db: Db, name: string): Promise<number> {
  const [row] = await db('teams').insert({ name }).returning('id')
  return typeof row === 'object' ? row.id : row
}

export async function recordLoginFailure (db: Db, subjects: string[], now: number): Promise<void> {
  await db('login_failures').insert(subjects.map((subject) => ({ subject, created_at: now })))
}

export async function countLoginFailures (db: Db, subject: string, since: number): Promise<number> {
  const [row] = await db('login_failures').where('subject', subject).andWhere('created_at', '>=', since).count({ n: '*' })
  return Number(row?.n ?? 0)
}

export async function clearLoginFailures (db: Db, subject: string): Promise<void> {
  await db('login_failures').where({ subject }).delete()
}

export async function insertPasswordReset (db: Db, agentId: number, tokenHash: string, expiresAt: number): Promise<void> {
  await db('password_resets').insert({ agent_id: agentId, token_hash: tokenHash, expires_at: expiresAt })
}

export async function findPasswordReset (db: Db, tokenHash: string): Promise<{ id: number, agent_id: number, expires_at: number, used_at: number | null } | undefined> {
  return await db('password_resets').where({ token_hash: tokenHash }).first()
}

export async function markPasswordResetUsed (db: Db, id: number, now: number): Promise<void> {
  await db('password_resets').where({ id }).update({ used_at: now })
}

/** Agents who work a department (agent or manager role), for "new ticket" style notices. */
export async function listDepartmentAgents (db: Db, departmentId: number): Promise<Array<{ id: number, name: string, email: string }>> {
  return await db('agents as a')
    .join('agent_departments as ad', 'ad.agent_id', 'a.id')
    .where('ad.department_id', departmentId)
    .whereIn('ad.role', ['agent', 'manager'])
    .andWhere('a.active', true)
    .orderBy('a.id')
    .select('a.id', 'a.name', 'a.email')
}

export async function listTeamAgents (db: Db, teamId: number): Promise<Array<{ id: number, name: string, email: string }>> {
  return await db('agents as a')
    .join('team_members as tm', 'tm.agent_id', 'a.id')
    .where('tm.team_id', teamId)
    .andWhere('a.active', true)
    .orderBy('a.id')
    .select('a.id', 'a.name', 'a.email')
}
