import { insertEach, insertedId, listOf, outputName, preparedRead, readList, selectList, type Db, type ListRead } from './database.js'
import type { Knex } from 'knex'
import type { TicketSlaPatch } from './sla.js'

export type TicketStatus = 'open' | 'pending' | 'resolved' | 'closed'
export type EntryKind = 'message' | 'response' | 'note'
/** How a ticket reached the desk. */
export type TicketSource = 'phone' | 'walk_in' | 'email' | 'web' | 'api' | 'other'

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
  /** Set while the ticket is in the trash. */
  deleted_at: number | null
  deleted_by: number | null
  /** The name typed when the ticket was opened, which may differ from the requester's profile. */
  requester_name_given: string | null
  /** The new-ticket form's one-time id, unique per requester. */
  submission_id: string | null
  source: TicketSource
}

/** A ticket with the names a page shows beside it. */
export interface TicketView extends TicketRow {
  department_name: string
  help_topic_name: string | null
  requester_name: string
  requester_email: string
  assignee_name: string | null
  team_name: string | null
  /** The number of the ticket this one was merged into, if any. */
  merged_into_number: string | null
}

/** Everything that can happen to a ticket, as its history records it. */
export type EventType =
  | 'created' | 'replied' | 'client_replied' | 'note_added' | 'assigned' | 'claimed' | 'released'
  | 'transferred' | 'priority_changed' | 'status_changed' | 'merged' | 'merged_in' | 'deleted' | 'restored' | 'client_reminded'
  /** An SLA clock changed (src/domain/sla.ts); `after_state.change` says how. */
  | 'sla'
  | 'survey_sent' | 'survey_rated' | 'linked' | 'unlinked'
  | 'participant_added' | 'participant_removed'

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
  /** The ticket the entry was written on, when a merge moved it here. */
  merged_from_id?: number | null
  /** Moved here from another person's ticket: never shown to this ticket's requester. */
  staff_only?: boolean
  /** The HTML part of a message as sent (unsafe: shown to agents only, in a sandbox). */
  original_html?: string | null
  /** `body` is the start of a longer message, whose full text is in original_body. */
  body_shortened?: boolean
}

export interface EntryView extends EntryRow {
  author_name: string
  /** The message came with an HTML part, which agents may view (see mail-view routes). */
  has_html?: boolean
}

export interface EventRow {
  id: number
  ticket_id: number
  type: EventType
  actor_kind: 'agent' | 'requester' | 'system'
  agent_id: number | null
  requester_id: number | null
  before_state: string | null
  after_state: string | null
  created_at: number
}

/** A new ticket's row: all but its id, with the columns of the SLA clock it starts with. */
export type NewTicket = Omit<TicketRow, 'id'> & TicketSlaPatch

// SQLite hands back 0/1 for booleans; normalise once here so no caller has to care.
function toTicket<T extends TicketRow> (row: T | undefined): T | undefined {
  if (row) row.answered = Boolean(row.answered)
  return row
}

/** New tickets in one statement; their ids in the same order. */
export async function insertTickets (db: Db, tickets: readonly NewTicket[]): Promise<number[]> {
  return await insertEach(db, 'tickets', tickets, 'number')
}

/** Which of these numbers tickets already have. */
export async function takenNumbers (db: Db, numbers: readonly string[]): Promise<Set<string>> {
  return await readList(db, takenNumbersList(db, numbers))
}

/** takenNumbers as a list read with others. */
export function takenNumbersList (db: Db, numbers: readonly string[]): ListRead<Set<string>> {
  return listOf(ticketsNumbered(db, { numbers: [...numbers] }), ['number'], (rows: Array<{ number: string }>) => new Set(rows.map((row) => row.number)))
}

const ticketsNumbered = preparedRead((db, { numbers }: { numbers: readonly string[] }) => db('tickets').whereIn('number', numbers).select('number'))

export async function updateTicket (db: Db, id: number, patch: Partial<TicketRow>): Promise<void> {
  await db('tickets').where({ id }).update(patch)
}

/**
 * Updates the ticket only while it still holds the values in `unchanged` (what the caller
 * decided on); false when someone changed it meanwhile. The patch must change one of those
 * columns: MySQL counts changed rows, not matched ones.
 */
export async function updateTicketIf (db: Db, id: number, unchanged: Partial<TicketRow>, patch: Partial<TicketRow>): Promise<boolean> {
  return await db('tickets').where({ id }).andWhere(unchanged).update(patch) > 0
}

export async function findTicketById (db: Db, id: number): Promise<TicketRow | undefined> {
  return toTicket(await db<TicketRow>('tickets').where({ id }).first())
}

export async function findTicketByNumber (db: Db, number: string): Promise<TicketRow | undefined> {
  return toTicket(await db<TicketRow>('tickets').where({ number }).first())
}

/**
 * Every column of tickets but PostgreSQL's search_vector (which only search reads), by name:
 * a page reads its ticket as JSON on SQLite (see readLists), and JSON names what it holds.
 * A test holds this list to the table on each database.
 */
export const ticketColumns = ['id', 'number', 'subject', 'status', 'priority', 'department_id', 'help_topic_id', 'requester_id', 'assignee_id',
  'team_id', 'merged_into_id', 'follows_ticket_id', 'answered', 'created_at', 'first_response_at', 'resolved_at', 'closed_at',
  'last_activity_at', 'due_at', 'deleted_at', 'deleted_by', 'requester_name_given', 'submission_id', 'reminded_at', 'sla_plan_id',
  'first_response_due_at', 'first_response_warn_at', 'first_response_outcome', 'resolution_due_at', 'resolution_warn_at',
  'resolution_outcome', 'sla_paused_at', 'sla_due_at', 'sla_check_at', 'source'] as const

const viewNames = ['d.name as department_name', 'h.name as help_topic_name', 'r.name as requester_name', 'r.email as requester_email',
  'a.name as assignee_name', 'tm.name as team_name', 'm.number as merged_into_number']

const ticketViewSelect = [...ticketColumns.map((column) => `t.${column}`), ...viewNames]

/** What `ticketViews` selects, by the names the columns come out under. */
export const ticketViewColumns: readonly string[] = [...ticketColumns, ...viewNames.map(outputName)]

/**
 * Tickets (`t`) with the names a page shows beside them; callers add the conditions. Given
 * `ids` (a query selecting `id`, ordered and limited), only those tickets are joined.
 */
export function ticketViews (db: Db, ids?: Knex.QueryBuilder): Knex.QueryBuilder {
  const tickets = ids ? db.from(ids.as('page')).join('tickets as t', 't.id', 'page.id') : db('tickets as t')
  return tickets
    .join('departments as d', 'd.id', 't.department_id')
    .join('requesters as r', 'r.id', 't.requester_id')
    .leftJoin('help_topics as h', 'h.id', 't.help_topic_id')
    .leftJoin('agents as a', 'a.id', 't.assignee_id')
    .leftJoin('teams as tm', 'tm.id', 't.team_id')
    .leftJoin('tickets as m', 'm.id', 't.merged_into_id')
    .select(selectList(db, ticketViewSelect))
}

export function toTicketViews (rows: TicketView[]): TicketView[] {
  for (const row of rows) toTicket(row)
  return rows
}

export async function findTicketView (db: Db, number: string): Promise<TicketView | undefined> {
  return toTicket<TicketView>(await ticketViews(db).where('t.number', number).first())
}

export async function insertEntry (db: Db, entry: Omit<EntryRow, 'id'>): Promise<number> {
  const [row] = await db('thread_entries').insert(entry).returning('id')
  return insertedId(row)
}

/** The first messages of new tickets (one per ticket) in one statement; their ids in the same order. */
export async function insertFirstMessages (db: Db, entries: ReadonlyArray<Omit<EntryRow, 'id'>>): Promise<number[]> {
  return await insertEach(db, 'thread_entries', entries, 'ticket_id')
}

/** An entry's own columns: all but PostgreSQL's search_vector, which only search reads. */
const entryColumns = ['id', 'ticket_id', 'kind', 'agent_id', 'requester_id', 'body', 'created_at', 'message_id', 'original_body',
  'merged_from_id', 'staff_only', 'original_html', 'body_shortened'] as const

/** The thread in order, for staff; notes only when asked for. */
export async function listEntries (db: Db, ticketId: number, { includeNotes }: { includeNotes: boolean }): Promise<EntryView[]> {
  const query = db('thread_entries as e')
    .leftJoin('agents as a', 'a.id', 'e.agent_id')
    .leftJoin('requesters as r', 'r.id', 'e.requester_id')
    .where('e.ticket_id', ticketId)
    .orderBy('e.id')
    .select(...entryColumns.map((column) => `e.${column}`), db.raw('coalesce(a.name, r.name) as author_name'))
  if (!includeNotes) query.whereNot('e.kind', 'note')
  return await query
}

/**
 * What a ticket's requester may read: messages and responses, never notes. A ticket merged
 * away shows the entries that were written on it (they now live on the target); any other
 * ticket shows its own, except those a merge brought from another person's ticket.
 */
export async function listRequesterEntries (db: Db, ticket: Pick<TicketRow, 'id' | 'merged_into_id'>): Promise<EntryView[]> {
  const query = db('thread_entries as e')
    .leftJoin('agents as a', 'a.id', 'e.agent_id')
    .leftJoin('requesters as r', 'r.id', 'e.requester_id')
    .whereNot('e.kind', 'note')
    .orderBy('e.id')
    .select(...entryColumns.map((column) => `e.${column}`), db.raw('coalesce(a.name, r.name) as author_name'))
  if (ticket.merged_into_id !== null) query.where('e.merged_from_id', ticket.id)
  else query.where('e.ticket_id', ticket.id).where('e.staff_only', false)
  return await query
}

export async function insertEvents (db: Db, events: ReadonlyArray<Omit<EventRow, 'id'>>): Promise<void> {
  if (events.length > 0) await db('events').insert(events)
}

export async function listEvents (db: Db, ticketId: number): Promise<EventRow[]> {
  return await db<EventRow>('events').where({ ticket_id: ticketId }).orderBy('id')
}

export interface Timeline { entries: EntryView[], events: EventRow[] }

/**
 * A ticket as the lists of its page name it: by id, or by number, so that one statement can
 * read the ticket and its lists together before its id is known.
 */
export type TicketRef = { id: number } | { number: string }

/** The ticket's id in a query: the id itself, or the subquery that finds it by number. */
export function ticketIdIn (db: Db, ticket: TicketRef): number | Knex.QueryBuilder {
  return 'id' in ticket ? ticket.id : db('tickets').where('number', ticket.number).select('id')
}

type TimelineRow = EntryView & EventRow & { source: 'entry' | 'event', has_html: number | boolean | null }
const timelineColumns = ['source', 'id', 'ticket_id', 'created_at', 'agent_id', 'requester_id', 'kind', 'body', 'message_id', 'original_body',
  'staff_only', 'author_name', 'body_shortened', 'has_html', 'type', 'actor_kind', 'before_state', 'after_state']

/**
 * Thread entries (notes included) and events of one ticket, each oldest first, read in one
 * statement: a ticket page shows both, as one of the lists it reads together (`readLists`).
 */
export function timelineList (db: Db, ticket: TicketRef): ListRead<Timeline> {
  return listOf(timeline(db, { ticket }), timelineColumns, toTimeline)
}

const timeline = preparedRead((db, { ticket }: { ticket: TicketRef }) => {
  const none = (name: string): Knex.Raw => db.raw(`null as ${name}`)
  return db('thread_entries as e')
    .leftJoin('agents as a', 'a.id', 'e.agent_id')
    .leftJoin('requesters as r', 'r.id', 'e.requester_id')
    .where('e.ticket_id', ticketIdIn(db, ticket))
    .select(db.raw("'entry' as source"), 'e.id', 'e.ticket_id', 'e.created_at', 'e.agent_id', 'e.requester_id', 'e.kind', 'e.body',
      'e.message_id', 'e.original_body', 'e.staff_only', db.raw('coalesce(a.name, r.name) as author_name'),
      'e.body_shortened', db.raw('case when e.original_html is null then 0 else 1 end as has_html'),
      none('type'), none('actor_kind'), none('before_state'), none('after_state'))
    .unionAll((q) => {
      void q.from('events as v').where('v.ticket_id', ticketIdIn(db, ticket))
        .select(db.raw("'event' as source"), 'v.id', 'v.ticket_id', 'v.created_at', 'v.agent_id', 'v.requester_id', none('kind'), none('body'),
          none('message_id'), none('original_body'), none('staff_only'), none('author_name'),
          none('body_shortened'), none('has_html'), 'v.type', 'v.actor_kind', 'v.before_state', 'v.after_state')
    })
})

function toTimeline (rows: TimelineRow[]): Timeline {
  const byId = (a: { id: number }, b: { id: number }): number => a.id - b.id
  const entries: EntryView[] = rows.filter((row) => row.source === 'entry').map((row) => ({
    id: row.id,
    ticket_id: row.ticket_id,
    kind: row.kind,
    agent_id: row.agent_id,
    requester_id: row.requester_id,
    body: row.body,
    created_at: row.created_at,
    message_id: row.message_id,
    original_body: row.original_body,
    staff_only: Boolean(row.staff_only),
    body_shortened: Boolean(row.body_shortened),
    has_html: Boolean(Number(row.has_html)),
    author_name: row.author_name
  }))
  const events: EventRow[] = rows.filter((row) => row.source === 'event').map((row) => ({
    id: row.id,
    ticket_id: row.ticket_id,
    type: row.type,
    actor_kind: row.actor_kind,
    agent_id: row.agent_id,
    requester_id: row.requester_id,
    before_state: row.before_state,
    after_state: row.after_state,
    created_at: row.created_at
  }))
  return { entries: entries.sort(byId), events: events.sort(byId) }
}

export async function insertAccessTokens (db: Db, tokens: ReadonlyArray<{ ticketId: number, tokenHash: string, at: number }>): Promise<void> {
  if (tokens.length === 0) return
  await db('ticket_access_tokens').insert(tokens.map((token) => ({ ticket_id: token.ticketId, token_hash: token.tokenHash, created_at: token.at })))
}

export async function listAccessTokenHashes (db: Db, ticketId: number): Promise<string[]> {
  const rows = await db('ticket_access_tokens').where({ ticket_id: ticketId }).select('token_hash')
  return rows.map((row: { token_hash: string }) => row.token_hash)
}

/**
 * Thread entries keep their ids, so the merged thread stays in the order things happened.
 * Each remembers the ticket it was first written on; `staffOnly` hides the moved entries
 * from the target's requester (a merge across two people).
 */
export async function moveThread (db: Db, fromTicketId: number, toTicketId: number, staffOnly: boolean): Promise<void> {
  await db('thread_entries').where({ ticket_id: fromTicketId }).whereNull('merged_from_id').update({ merged_from_id: fromTicketId })
  await db('thread_entries').where({ ticket_id: fromTicketId }).update(staffOnly ? { ticket_id: toTicketId, staff_only: true } : { ticket_id: toTicketId })
}

/** Tickets merged into `fromTicketId` now point straight at `toTicketId`: no chains. */
export async function repointMerges (db: Db, fromTicketId: number, toTicketId: number): Promise<void> {
  await db('tickets').where({ merged_into_id: fromTicketId }).update({ merged_into_id: toTicketId })
}

/** The tickets these (requester, new-ticket form) pairs already opened. */
export function ticketsBySubmissionList (db: Db, pairs: ReadonlyArray<{ requesterId: number, submissionId: string }>): ListRead<TicketRow[]> {
  return listOf(ticketsBySubmission(db, { pairs: pairs.map((pair) => [pair.requesterId, pair.submissionId]) }), ticketColumns, (rows: TicketRow[]) => rows.map((row) => toTicket(row)!))
}

// An empty list of pairs matches nothing (Knex writes it as 1 = 0).
const ticketsBySubmission = preparedRead((db, { pairs }: { pairs: ReadonlyArray<readonly [number, string]> }) =>
  db('tickets').whereIn(['requester_id', 'submission_id'], pairs as Array<[number, string]>).select(ticketColumns))

/** Moves a ticket to the trash; false when it was there already. */
export async function markTicketDeleted (db: Db, id: number, agentId: number | null, at: number): Promise<boolean> {
  return await db('tickets').where({ id }).whereNull('deleted_at').update({ deleted_at: at, deleted_by: agentId }) > 0
}

/** Takes a ticket out of the trash; false when it was not in it. */
export async function markTicketRestored (db: Db, id: number): Promise<boolean> {
  return await db('tickets').where({ id }).whereNotNull('deleted_at').update({ deleted_at: null, deleted_by: null }) > 0
}

export interface TrashRow {
  id: number
  number: string
  subject: string
  department_id: number
  department_name: string
  requester_name: string
  deleted_at: number
  deleted_by_name: string | null
}

/** Trashed tickets in these departments (all of them for `null`), most recently deleted first. */
export async function listTrash (db: Db, departmentIds: readonly number[] | null, limit: number): Promise<TrashRow[]> {
  const query = db('tickets as t')
    .join('departments as d', 'd.id', 't.department_id')
    .join('requesters as r', 'r.id', 't.requester_id')
    .leftJoin('agents as a', 'a.id', 't.deleted_by')
    .whereNotNull('t.deleted_at')
    .orderBy([{ column: 't.deleted_at', order: 'desc' }, { column: 't.id', order: 'desc' }])
    .limit(limit)
    .select('t.id', 't.number', 't.subject', 't.department_id', 't.deleted_at', 'd.name as department_name',
      'r.name as requester_name', 'a.name as deleted_by_name')
  if (departmentIds !== null) query.whereIn('t.department_id', departmentIds.length > 0 ? departmentIds : [-1])
  return await query
}

/** Ids of tickets trashed before `cutoff`, oldest first. */
export async function listExpiredTrash (db: Db, cutoff: number, limit: number): Promise<number[]> {
  const rows = await db('tickets').whereNotNull('deleted_at').andWhere('deleted_at', '<', cutoff).orderBy('deleted_at').limit(limit).select('id')
  return rows.map((row: { id: number }) => row.id)
}

/**
 * Deletes one trashed ticket for good, if it is still trashed since before `cutoff`. The
 * first statement locks the row, so an instance purging the same ticket at the same time
 * waits, then finds nothing left to do.
 */
export async function purgeTicketRows (db: Db, id: number, cutoff: number): Promise<boolean> {
  const claimed = await db('tickets').where({ id }).whereNotNull('deleted_at').andWhere('deleted_at', '<', cutoff).update({ deleted_by: null })
  if (claimed === 0) return false
  await deleteTicketRows(db, id)
  return true
}

export async function deleteTicketRows (db: Db, ticketId: number): Promise<void> {
  // Other tickets may point here (merges, follow-ups); they keep existing without the link.
  await db('tickets').where({ merged_into_id: ticketId }).update({ merged_into_id: null })
  await db('tickets').where({ follows_ticket_id: ticketId }).update({ follows_ticket_id: null })
  await db('thread_entries').where({ merged_from_id: ticketId }).update({ merged_from_id: null })
  for (const table of ['ticket_viewers', 'ticket_access_tokens', 'ticket_participants', 'thread_entries', 'events']) {
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
    .first(entryColumns)
}

export async function touchViewer (db: Db, ticketId: number, agentId: number, now: number): Promise<void> {
  await db('ticket_viewers').insert({ ticket_id: ticketId, agent_id: agentId, seen_at: now })
    .onConflict(['ticket_id', 'agent_id']).merge({ seen_at: now })
}

export async function listViewers (db: Db, ticketId: number, since: number, exceptAgentId: number): Promise<Array<{ id: number, name: string }>> {
  return await readList(db, viewersList(db, { id: ticketId }, since, exceptAgentId))
}

/** Who else has had the ticket open since `since`, by name, as a list a page reads with others. */
export function viewersList (db: Db, ticket: TicketRef, since: number, exceptAgentId: number): ListRead<Array<{ id: number, name: string }>> {
  return listOf(viewers(db, { ticket, since, exceptAgentId }), ['id', 'name'])
}

const viewers = preparedRead((db, { ticket, since, exceptAgentId }: { ticket: TicketRef, since: number, exceptAgentId: number }) =>
  db('ticket_viewers as v')
    .join('agents as a', 'a.id', 'v.agent_id')
    .where('v.ticket_id', ticketIdIn(db, ticket))
    .andWhere('v.seen_at', '>=', since)
    .andWhereNot('v.agent_id', exceptAgentId)
    .orderBy('a.name')
    .select('a.id', 'a.name'))
