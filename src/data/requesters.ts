import type { AgentAccess } from './agents.js'
import { insertEach, listOf, outputName, preparedRead, readList, type Db, type ListRead } from './database.js'
import { visibleTo } from './queues.js'
import type { TicketStatus } from './tickets.js'

export interface RequesterRow {
  id: number
  name: string
  email: string
  created_at: number
  note?: string | null
  merged_into_id?: number | null
}

/**
 * Finds the requester by e-mail address or creates one with this name. A known requester
 * keeps the name they have: anyone can type anyone's address into the portal. An address
 * whose record was merged into another belongs to that other record.
 */
export async function findOrCreateRequester (db: Db, name: string, email: string, now: number): Promise<RequesterRow> {
  return (await findOrCreateRequesters(db, [{ name, email }], now)).get(email)!
}

/**
 * findOrCreateRequester for several people at once (new tickets opened together), by
 * address; the first name given for a new address is the one kept. Three statements at
 * most, however many people.
 */
export async function findOrCreateRequesters (db: Db, people: ReadonlyArray<{ name: string, email: string }>, now: number): Promise<Map<string, RequesterRow>> {
  return await createMissingRequesters(db, people, await findRequestersByEmail(db, people.map((person) => person.email)), now)
}

/** The requesters these addresses belong to (an address merged away belongs to the record it went into). */
export async function findRequestersByEmail (db: Db, addresses: readonly string[]): Promise<Map<string, RequesterRow>> {
  return await readList(db, requestersByEmailList(db, addresses))
}

/** findRequestersByEmail as a list read with others. */
export function requestersByEmailList (db: Db, addresses: readonly string[]): ListRead<Map<string, RequesterRow>> {
  return listOf(requestersByEmail(db, { emails: [...new Set(addresses)] }), ['asked', ...requesterColumns.map(outputName)],
    (rows: Array<RequesterRow & { asked: string }>) => new Map(rows.map(({ asked, ...row }) => [asked, row])))
}

const requesterColumns = ['s.id', 's.name', 's.email', 's.created_at', 's.note', 's.merged_into_id', 's.updated_at']

const requestersByEmail = preparedRead((db, { emails }: { emails: readonly string[] }) => db('requesters as r')
  .join('requesters as s', 's.id', db.raw('coalesce(??, ??)', ['r.merged_into_id', 'r.id']))
  .whereIn('r.email', emails)
  .select(['r.email as asked', ...requesterColumns]))

/** `found` (see findRequestersByEmail) with a new requester for each of these people it lacks. */
export async function createMissingRequesters (db: Db, people: ReadonlyArray<{ name: string, email: string }>, found: ReadonlyMap<string, RequesterRow>, now: number): Promise<Map<string, RequesterRow>> {
  const all = new Map(found)
  const missing = [...new Set(people.map((person) => person.email))].filter((email) => !all.has(email))
    .map((email) => ({ name: people.find((person) => person.email === email)!.name, email, created_at: now }))
  const ids = await insertEach(db, 'requesters', missing, 'email')
  missing.forEach((row, i) => all.set(row.email, { id: ids[i]!, ...row }))
  return all
}

export async function findRequester (db: Db, id: number): Promise<RequesterRow | undefined> {
  return await db<RequesterRow>('requesters').where({ id }).first()
}

export async function findRequesterByEmail (db: Db, email: string): Promise<RequesterRow | undefined> {
  return await db<RequesterRow>('requesters').where({ email }).first()
}

export interface RequesterListRow { id: number, name: string, email: string, created_at: number }

/** What a person typed as a LIKE pattern; `!` escapes (a backslash means different things to MySQL). */
function likePattern (text: string): string {
  return '%' + text.toLowerCase().replace(/[!%_]/g, (c) => '!' + c) + '%'
}

/**
 * One page of the directory in name order (keyset on name, id), optionally only those whose
 * name or address contains `search`, or who opened the ticket with that number. Merged
 * records are left out: they live on in the record they were merged into.
 */
export async function listRequesters (db: Db, filter: { search?: string, after?: { name: string, id: number } }, limit: number): Promise<RequesterListRow[]> {
  const query = db('requesters as r').select('r.id', 'r.name', 'r.email', 'r.created_at').whereNull('r.merged_into_id')
  const search = filter.search?.trim()
  if (search) {
    const pattern = likePattern(search)
    query.where((q) => {
      void q.whereRaw("lower(r.name) like ? escape '!'", [pattern]).orWhereRaw("r.email like ? escape '!'", [pattern])
      if (/^[0-9]{6,12}$/.test(search)) q.orWhereIn('r.id', db('tickets').where('number', search).select('requester_id'))
    })
  }
  if (filter.after) query.whereRaw('(r.name, r.id) > (?, ?)', [filter.after.name, filter.after.id])
  return await query.orderBy([{ column: 'r.name' }, { column: 'r.id' }]).limit(limit)
}

export interface RequesterTicketRow { id: number, number: string, subject: string, status: TicketStatus, created_at: number, department_name: string }

/** The requester's tickets this agent may see, newest first. */
export async function listRequesterTickets (db: Db, access: AgentAccess, requesterId: number, limit: number): Promise<RequesterTicketRow[]> {
  const query = db('tickets as t')
    .join('departments as d', 'd.id', 't.department_id')
    .where('t.requester_id', requesterId)
    .whereNull('t.deleted_at')
    .select('t.id', 't.number', 't.subject', 't.status', 't.created_at', 'd.name as department_name')
    .orderBy([{ column: 't.created_at', order: 'desc' }, { column: 't.id', order: 'desc' }])
    .limit(limit)
  return await visibleTo(query, access)
}

export async function updateRequester (db: Db, id: number, fields: Partial<Pick<RequesterRow, 'name' | 'email' | 'note'>>, at: number): Promise<void> {
  await db('requesters').where({ id }).update({ ...fields, updated_at: at })
}

/** Moves every ticket (trashed ones too) from one requester to another; returns how many. */
export async function moveRequesterTickets (db: Db, fromId: number, toId: number): Promise<number> {
  return await db('tickets').where({ requester_id: fromId }).update({ requester_id: toId })
}

/** Points a merged record, and any merged into it before, at the record that survives. */
export async function markRequesterMerged (db: Db, fromId: number, intoId: number, at: number): Promise<void> {
  await db('requesters').where({ merged_into_id: fromId }).update({ merged_into_id: intoId, updated_at: at })
  await db('requesters').where({ id: fromId }).update({ merged_into_id: intoId, updated_at: at })
}
