import { workingRoles } from './agents.js'
import { dialectOfDb, type Db } from './database.js'

/** How a team hands its new tickets to one of its members. */
export const routingStrategies = ['none', 'round_robin', 'fewest_open'] as const
export type RoutingStrategy = typeof routingStrategies[number]

export function isRoutingStrategy (value: unknown): value is RoutingStrategy {
  return typeof value === 'string' && (routingStrategies as readonly string[]).includes(value)
}

export interface TeamRouting { id: number, name: string, routing: RoutingStrategy }

export async function findTeamRouting (db: Db, teamId: number): Promise<TeamRouting | undefined> {
  const row: { id: number, name: string, routing: string } | undefined = await db('teams').where({ id: teamId }).first('id', 'name', 'routing')
  if (!row) return undefined
  return { ...row, routing: isRoutingStrategy(row.routing) ? row.routing : 'none' }
}

export async function updateTeamRouting (db: Db, teamId: number, routing: RoutingStrategy): Promise<void> {
  await db('teams').where({ id: teamId }).update({ routing })
}

/**
 * Takes the team's next `count` round-robin slots and answers the first: the increment is
 * one atomic update whose row lock lasts until the creating transaction commits, so
 * concurrent creators (on any instance) each get slots of their own, in turn. The first
 * slot ever is 0.
 */
export async function takeRoutingSlots (trx: Db, teamId: number, count: number): Promise<number> {
  const taking = trx('teams').where({ id: teamId }).increment('rr_cursor', count)
  let row: { rr_cursor: number | string } | undefined
  // MySQL has no RETURNING; the row lock the update took keeps the cursor as it left it.
  if (dialectOfDb(trx) === 'mysql') {
    await taking
    row = await trx('teams').where({ id: teamId }).first('rr_cursor')
  } else {
    [row] = await taking.returning('rr_cursor') as Array<{ rr_cursor: number | string }>
  }
  return Number(row?.rr_cursor ?? count) - count
}

/**
 * The team's members who may take a new ticket of the department now: enabled, signed up,
 * with a working role there and not away. In id order, so every instance counts the same
 * rotation.
 */
export async function listRoutableMembers (db: Db, teamId: number, departmentId: number, at: number): Promise<number[]> {
  const rows: Array<{ id: number }> = await db('team_members as tm')
    .join('agents as a', 'a.id', 'tm.agent_id')
    .join('agent_departments as ad', (j) => { j.on('ad.agent_id', 'a.id').andOnVal('ad.department_id', departmentId) })
    .where('tm.team_id', teamId)
    .andWhere('a.active', true).whereNotNull('a.password_hash')
    .whereIn('ad.role', [...workingRoles])
    .andWhere((q) => { void q.whereNull('a.away_until').orWhere('a.away_until', '<=', at) })
    .orderBy('a.id').select('a.id')
  return rows.map((row) => row.id)
}

/** Whether the agent has marked themselves away at `at`. */
export async function isAway (db: Db, agentId: number, at: number): Promise<boolean> {
  const row: { away_until: number | string | null } | undefined = await db('agents').where({ id: agentId }).first('away_until')
  return row?.away_until !== null && row?.away_until !== undefined && Number(row.away_until) > at
}

/** Open and pending tickets assigned to each of `agentIds` (missing agents have none). */
export async function countOpenAssigned (db: Db, agentIds: readonly number[]): Promise<Map<number, number>> {
  if (agentIds.length === 0) return new Map()
  const rows: Array<{ assignee_id: number, n: number | string }> = await db('tickets')
    .whereIn('assignee_id', agentIds).whereIn('status', ['open', 'pending']).whereNull('deleted_at')
    .groupBy('assignee_id').select('assignee_id').count({ n: '*' })
  return new Map(rows.map((row) => [Number(row.assignee_id), Number(row.n)]))
}
