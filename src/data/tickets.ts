import type { Db } from './database.js'

export type TicketStatus = 'open' | 'pending' | 'resolved' | 'closed'
export type EntryKind = 'message' | 'response' | 'note'

export interface TicketRow {
  id: number
  number: string
  subject: string
  status: TicketStatus
  priority: number
  department_id: number
  help_topic_id: number | null
  requester_id: number
  assignee_id: number | null
  team_id: number | null
  merged_into_id: number | null
  follows_ticket_id: number | null
  answered: boolean
  created_at: number
  first_response_at: number | null
  resolved_at: number | null
  closed_at: number | null
  last_activity_at: number
  due_at: number | null
}

/** A ticket with the names a page shows beside it. */
export interface TicketView extends TicketRow {
  department_name: string
  help_topic_name: string | null
  requester_name: string
  requester_email: string
  assignee_name: string | null
  team_name: string | null
}

export interface EntryRow {
  id: number
  ticket_id: number
  kind: EntryKind
  agent_id: number | null
  requester_id: number | null
  body: string
  created_at: number
  /** Set for entries that arrived by e-mail. */
  message_id?: string | null
  /** The e-mail as received, when quoted history was trimmed from `body`. */
  original_body?: string | null
}

export interface EntryView extends EntryRow {
  author_name: string
}

export interface EventRow {
  id: number
  ticket_id: number
  type: string
  actor_kind: 'agent' | 'requester' | 'system'
  agent_id: number | null
  requester_id: number | null
  before_state: string | null
  after_state: string | null
  created_at: number
}

export type NewTicket = Omit<TicketRow, 'id' | 'answered' | 'merged_into_id' | 'first_response_at' | 'resolved_at' | 'closed_at' | 'due_at'> &
Partial<Pick<TicketRow, 'due_at'>>

// SQLite hands back 0/1 for booleans; normalise once here so no caller has to care.
function toTicket<T extends TicketRow> (row: T | undefined): T | undefined {
  if (row) row.answered = Boolean(row.answered)
  return row
}

export async function insertTicket (db: Db, ticket: NewTicket): Promise<number> {
  const [row] = await db('tickets').insert(ticket).returning('id')
  return typeof row === 'object' ? row.id : row
}

export async function updateTicket (db: Db, id: number, patch: Partial<TicketRow>): Promise<void> {
  await db('tickets').where({ id }).update(patch)
}

export async function findTicketById (db: Db, id: number): Promise<TicketRow | undefined> {
  return toTicket(await db<TicketRow>('tickets').where({ id }).first())
}

export async function findTicketByNumber (db: Db, number: string): Promise<TicketRow | undefined> {
  return toTicket(await db<TicketRow>('tickets').where({ number }).first())
}

export async function findTicketView (db: Db, number: string): Promise<TicketView | undefined> {
  return toTicket<TicketView>(await db('tickets as t')
    .join('departments as d', 'd.id', 't.department_id')
    .join('requesters as r', 'r.id', 't.requester_id')
    .leftJoin('help_topics as h', 'h.id', 't.help_topic_id')
    .leftJoin('agents as a', 'a.id', 't.assignee_id')
    .leftJoin('teams as tm', 'tm.id', 't.team_id')
    .where('t.number', number)
    .first('t.*', 'd.name as department_name', 'h.name as help_topic_name', 'r.name as requester_name',
      'r.email as requester_email', 'a.name as assignee_name', 'tm.name as team_name'))
}

export async function insertEntry (db: Db, entry: Omit<EntryRow, 'id'>): Promise<number> {
  const [row] = await db('thread_entries').insert(entry).returning('id')
  return typeof row === 'object' ? row.id : row
}

/** The thread in order; notes only when asked for, so a client page cannot leak one by accident. */
export async function listEntries (db: Db, ticketId: number, { includeNotes }: { includeNotes: boolean }): Promise<EntryView[]> {
  const query = db('thread_entries as e')
    .leftJoin('agents as a', 'a.id', 'e.agent_id')
    .leftJoin('requesters as r', 'r.id', 'e.requester_id')
    .where('e.ticket_id', ticketId)
    .orderBy('e.id')
    .select('e.*', db.raw('coalesce(a.name, r.name) as author_name'))
  if (!includeNotes) query.whereNot('e.kind', 'note')
  return await query
}

export async function insertEvent (db: Db, event: Omit<EventRow, 'id'>): Promise<void> {
  await db('events').insert(event)
}

export async function listEvents (db: Db, ticketId: number): Promise<EventRow[]> {
  return await db<EventRow>('events').where({ ticket_id: ticketId }).orderBy('id')
}

export async function insertAccessToken (db: Db, ticketId: number, tokenHash: string, now: number): Promise<void> {
  await db('ticket_access_tokens').insert({ ticket_id: ticketId, token_hash: tokenHash, created_at: now })
}

export async function listAccessTokenHashes (db: Db, ticketId: number): Promise<string[]> {
  const rows = await db('ticket_access_tokens').where({ ticket_id: ticketId }).select('token_hash')
  return rows.map((row: { token_hash: string }) => row.token_hash)
}

/** Thread entries keep their ids, so the merged thread stays in the order things happened. */
export async function moveThread (db: Db, fromTicketId: number, toTicketId: number): Promise<void> {
  await db('thread_entries').where({ ticket_id: fromTicketId }).update({ ticket_id: toTicketId })
}

export async function deleteTicketRows (db: Db, ticketId: number): Promise<void> {
  // Other tickets may point here (merges, follow-ups); they keep existing without the link.
  await db('tickets').where({ merged_into_id: ticketId }).update({ merged_into_id: null })
  await db('tickets').where({ follows_ticket_id: ticketId }).update({ follows_ticket_id: null })
  for (const table of ['ticket_viewers', 'ticket_access_tokens', 'thread_entries', 'events']) {
    await db(table).where({ ticket_id: ticketId }).delete()
  }
  await db('outbox').where({ ticket_id: ticketId }).update({ ticket_id: null })
  await db('tickets').where({ id: ticketId }).delete()
}

/** The newest thread entry written by someone other than `agentId`, after `afterId`. */
export async function findEntryAfter (db: Db, ticketId: number, afterId: number, agentId: number): Promise<EntryRow | undefined> {
  return await db<EntryRow>('thread_entries')
    .where('ticket_id', ticketId)
    .andWhere('id', '>', afterId)
    .andWhere((q) => { q.whereNull('agent_id').orWhereNot('agent_id', agentId) })
    .orderBy('id', 'desc')
    .first()
}

export async function touchViewer (db: Db, ticketId: number, agentId: number, now: number): Promise<void> {
  await db('ticket_viewers').insert({ ticket_id: ticketId, agent_id: agentId, seen_at: now })
    .onConflict(['ticket_id', 'agent_id']).merge({ seen_at: now })
}

export async function listViewers (db: Db, ticketId: number, since: number, exceptAgentId: number): Promise<Array<{ id: number, name: string }>> {
  return await db('ticket_viewers as v')
    .join('agents as a', 'a.id', 'v.agent_id')
    .where('v.ticket_id', ticketId)
    .andWhere('v.seen_at', '>=', since)
    .andWhereNot('v.agent_id', exceptAgentId)
    .orderBy('a.name')
    .select('a.id', 'a.name')
}
