import type { Knex } from 'knex'
import { insertedId, listOf, preparedRead, type Db, type ListRead } from './database.js'
import type { TicketStatus } from './tickets.js'

export interface SlaScheduleRow {
  id: number
  name: string
  time_zone: string
  /** JSON: ISO weekday → [start, end) minute pairs. */
  windows: string
  /** JSON: [{ date: 'YYYY-MM-DD', name }]. */
  holidays: string
  created_at: number
}

export interface SlaPlanRow {
  id: number
  name: string
  first_response_hours: number
  resolution_hours: number
  /** Null: around the clock. */
  schedule_id: number | null
  created_at: number
}

/** A plan with the schedule it counts in (null columns: around the clock). */
export interface SlaPlanWithSchedule extends SlaPlanRow {
  time_zone: string | null
  windows: string | null
  holidays: string | null
}

export type SlaOutcome = 'met' | 'breached'

/** A ticket's SLA clock, as stored on the ticket. */
export interface TicketSla {
  id: number
  number: string
  subject: string
  status: TicketStatus
  department_id: number
  assignee_id: number | null
  team_id: number | null
  first_response_at: number | null
  sla_plan_id: number | null
  first_response_due_at: number | null
  first_response_warn_at: number | null
  first_response_outcome: SlaOutcome | null
  resolution_due_at: number | null
  resolution_warn_at: number | null
  resolution_outcome: SlaOutcome | null
  sla_paused_at: number | null
  sla_due_at: number | null
  sla_check_at: number | null
}

export type TicketSlaPatch = Partial<Omit<TicketSla, 'id' | 'number' | 'subject' | 'status' | 'department_id' | 'assignee_id' | 'team_id' | 'first_response_at'>>

const ticketSlaColumns = [
  'id', 'number', 'subject', 'status', 'department_id', 'assignee_id', 'team_id', 'first_response_at', 'sla_plan_id',
  'first_response_due_at', 'first_response_warn_at', 'first_response_outcome', 'resolution_due_at', 'resolution_warn_at',
  'resolution_outcome', 'sla_paused_at', 'sla_due_at', 'sla_check_at'
]

const planColumns = ['p.*', 's.time_zone', 's.windows', 's.holidays']

/**
 * The plans of these help topics and of these departments, with their schedules, in one
 * query, as a list read with others: keyed `topic:<id>` and `department:<id>`; a topic or
 * department without a plan is missing.
 */
export function topicAndDepartmentPlansList (db: Db, topicIds: readonly number[], departmentIds: readonly number[]): ListRead<Map<string, SlaPlanWithSchedule>> {
  return listOf(topicAndDepartmentPlans(db, { topicIds: [...new Set(topicIds)], departmentIds: [...new Set(departmentIds)] }), ownedPlanColumns,
    (rows: Array<SlaPlanWithSchedule & { of_topic: number | string, owner_id: number }>) =>
      new Map(rows.map(({ of_topic: ofTopic, owner_id: ownerId, ...plan }) => [`${Number(ofTopic) === 1 ? 'topic' : 'department'}:${ownerId}`, plan])))
}

const ownedPlanColumns = ['of_topic', 'owner_id', 'id', 'name', 'first_response_hours', 'resolution_hours', 'schedule_id', 'created_at', 'time_zone', 'windows', 'holidays']

const topicAndDepartmentPlans = preparedRead((db, { topicIds, departmentIds }: { topicIds: readonly number[], departmentIds: readonly number[] }) => {
  // The owner is told apart by a constant, not a bound value: PostgreSQL cannot type a
  // parameter that is only selected.
  const plansOf = (table: 'help_topics' | 'departments', ids: readonly number[]): Knex.QueryBuilder =>
    db(`${table} as o`).join('sla_plans as p', 'p.id', 'o.sla_plan_id').leftJoin('sla_schedules as s', 's.id', 'p.schedule_id')
      .whereIn('o.id', ids)
      .select(db.raw(table === 'help_topics' ? '1 as of_topic' : '0 as of_topic'), 'o.id as owner_id', ...planColumns)
  return plansOf('help_topics', topicIds).unionAll(plansOf('departments', departmentIds))
})

export async function findPlanWithSchedule (db: Db, planId: number): Promise<SlaPlanWithSchedule | undefined> {
  return await db('sla_plans as p').leftJoin('sla_schedules as s', 's.id', 'p.schedule_id').where('p.id', planId).first(planColumns)
}

export async function findTicketSla (db: Db, ticketId: number): Promise<TicketSla | undefined> {
  return await db('tickets').where('id', ticketId).first(ticketSlaColumns)
}

export async function updateTicketSla (db: Db, ticketId: number, patch: TicketSlaPatch): Promise<void> {
  await db('tickets').where('id', ticketId).update(patch)
}

/**
 * Applies the pass's patch only while the ticket's next check is still the one the pass
 * read: a second instance working the same ticket at once finds it changed and does nothing.
 */
export async function updateTicketSlaIf (db: Db, ticketId: number, checkAt: number, patch: TicketSlaPatch): Promise<boolean> {
  return await db('tickets').where({ id: ticketId, sla_check_at: checkAt, status: 'open' }).update(patch) > 0
}

/** Open tickets whose SLA clock needs a look at `now` (a warning or a breach), soonest first. */
export async function listSlaChecksDue (db: Db, now: number, limit: number): Promise<TicketSla[]> {
  return await db('tickets')
    .where('status', 'open')
    .andWhere('sla_check_at', '<=', now)
    .whereNull('deleted_at')
    .orderBy('sla_check_at')
    .limit(limit)
    .select(ticketSlaColumns)
}

export async function listSchedules (db: Db): Promise<SlaScheduleRow[]> {
  return await db('sla_schedules').orderBy('name').select('*')
}

export async function findSchedule (db: Db, id: number): Promise<SlaScheduleRow | undefined> {
  return await db('sla_schedules').where({ id }).first()
}

export async function findScheduleByName (db: Db, name: string): Promise<SlaScheduleRow | undefined> {
  return await db('sla_schedules').where({ name }).first()
}

export type ScheduleFields = Omit<SlaScheduleRow, 'id' | 'created_at'>

export async function insertSchedule (db: Db, fields: ScheduleFields, at: number): Promise<number> {
  const [row] = await db('sla_schedules').insert({ ...fields, created_at: at }).returning('id')
  return insertedId(row)
}

export async function updateSchedule (db: Db, id: number, fields: Partial<ScheduleFields>): Promise<void> {
  await db('sla_schedules').where({ id }).update(fields)
}

export interface SlaPlanSummary extends SlaPlanRow {
  schedule_name: string | null
}

export async function listPlans (db: Db): Promise<SlaPlanSummary[]> {
  return await db('sla_plans as p').leftJoin('sla_schedules as s', 's.id', 'p.schedule_id').orderBy('p.name').select('p.*', 's.name as schedule_name')
}

export async function findPlan (db: Db, id: number): Promise<SlaPlanRow | undefined> {
  return await db('sla_plans').where({ id }).first()
}

export async function findPlanByName (db: Db, name: string): Promise<SlaPlanRow | undefined> {
  return await db('sla_plans').where({ name }).first()
}

export type PlanFields = Omit<SlaPlanRow, 'id' | 'created_at'>

export async function insertPlan (db: Db, fields: PlanFields, at: number): Promise<number> {
  const [row] = await db('sla_plans').insert({ ...fields, created_at: at }).returning('id')
  return insertedId(row)
}

export async function updatePlan (db: Db, id: number, fields: Partial<PlanFields>): Promise<void> {
  await db('sla_plans').where({ id }).update(fields)
}

/** Departments and help topics with the plan each picked (null: none). */
export async function listPlanChoices (db: Db): Promise<{ departments: Array<{ id: number, name: string, sla_plan_id: number | null }>, topics: Array<{ id: number, name: string, sla_plan_id: number | null }> }> {
  const [departments, topics] = await Promise.all([
    db('departments').whereNull('archived_at').orderBy('name').select('id', 'name', 'sla_plan_id'),
    db('help_topics').where('active', true).orderBy('name').select('id', 'name', 'sla_plan_id')
  ])
  return { departments, topics }
}

/** Points the departments or topics at a plan (or none); only rows that change. */
export async function setPlanOf (db: Db, table: 'departments' | 'help_topics', ids: readonly number[], planId: number | null): Promise<void> {
  if (ids.length === 0) return
  await db(table).whereIn('id', ids).update({ sla_plan_id: planId })
}
