import type { Db } from './database.js'

export interface AdminEventRow {
  id: number
  agent_id: number | null
  agent_name: string | null
  subject_type: string
  subject_id: number | null
  action: string
  before_state: string | null
  after_state: string | null
  created_at: number
}

export interface NewAdminEvent {
  agentId: number | null
  subjectType: string
  subjectId: number | null
  action: string
  before: unknown
  after: unknown
}

const json = (state: unknown): string | null => state === undefined || state === null ? null : JSON.stringify(state)

export async function insertAdminEvent (db: Db, event: NewAdminEvent, at: number): Promise<void> {
  await db('admin_events').insert({
    agent_id: event.agentId,
    subject_type: event.subjectType,
    subject_id: event.subjectId,
    action: event.action,
    before_state: json(event.before),
    after_state: json(event.after),
    created_at: at
  })
}

export interface AdminEventFilter {
  subjectType?: string
  agentId?: number
  /** Keyset cursor: only events older than this id. */
  beforeId?: number
}

/** Newest first, one page; the id orders events that share a millisecond. */
export async function listAdminEvents (db: Db, filter: AdminEventFilter, limit: number): Promise<AdminEventRow[]> {
  const query = db('admin_events as e')
    .leftJoin('agents as a', 'a.id', 'e.agent_id')
    .select('e.*', 'a.name as agent_name')
    .orderBy('e.id', 'desc')
    .limit(limit)
  if (filter.subjectType !== undefined) void query.where('e.subject_type', filter.subjectType)
  if (filter.agentId !== undefined) void query.where('e.agent_id', filter.agentId)
  if (filter.beforeId !== undefined) void query.where('e.id', '<', filter.beforeId)
  return await query
}
