import type { Knex } from 'knex'
import type { AgentAccess } from './agents.js'
import { dialectOfDb, insertedId, type Db, type Dialect } from './database.js'
import { filtered, visibleTo, withNames, type QueueFilters, type QueueRow } from './queues.js'
import type { EntryKind } from './tickets.js'
import type { ParsedSearch, SearchTerm } from '../domain/search-query.js'

/*
 * Ticket search on each database's own full-text index (see the search_index migration):
 * a ticket matches when its subject, its requester's name and address, or one of its thread
 * entries holds every term. The best of those matches ranks the ticket; recent activity
 * breaks ties. Scores are whole numbers so a page boundary (score, activity, id) is exact.
 */

export interface SearchFilters extends QueueFilters {
  /** Created at or after, and before (epoch ms). */
  createdFrom?: number
  createdBefore?: number
}

export interface SearchQuery {
  search: ParsedSearch
  filters: SearchFilters
  after?: { score: number, activity: number, id: number }
  limit: number
}

export type SearchRow = QueueRow & { score: number }

interface Match { sql: string, bindings: unknown[] }

// SQLite FTS5: each term a quoted string of its tokens (a phrase), `*` after a prefix.
function ftsQuery (terms: SearchTerm[]): string {
  return terms.map((term) => `"${term.tokens.join(' ')}"${term.prefix ? '*' : ''}`).join(' ')
}

// PostgreSQL: each term parsed by the same parser as the index, a prefix as `token:*`.
function tsQuery (terms: SearchTerm[]): Match {
  const parts = terms.map((term) => term.prefix && term.tokens.length === 1
    ? { sql: "to_tsquery('simple'::regconfig, ?)", binding: `${term.tokens[0]!}:*` }
    : { sql: "phraseto_tsquery('simple'::regconfig, tessera_fold(?))", binding: term.text })
  return { sql: parts.map((part) => part.sql).join(' && '), bindings: parts.map((part) => part.binding) }
}

// MySQL/MariaDB boolean mode: every term required, phrases quoted, `*` after a prefix.
function booleanQuery (terms: SearchTerm[]): string {
  return terms.map((term) => term.tokens.length > 1
    ? `+"${term.tokens.join(' ')}"`
    : `+${term.tokens[0]!}${term.prefix ? '*' : ''}`).join(' ')
}

const sqliteIndexes = {
  entries: { fts: 'entries_fts' },
  subjects: { fts: 'tickets_fts' },
  requesters: { fts: 'requesters_fts' }
}

/** The tickets that match, each once with its best score: a derived table `s(ticket_id, score)`. */
function hits (dialect: Dialect, search: ParsedSearch): Match {
  const parts: Match[] = []
  const terms = search.terms
  if (terms.length > 0) {
    switch (dialect) {
      case 'sqlite': {
        const q = ftsQuery(terms)
        // bm25 is lower for better matches; subjects count double.
        parts.push(
          { sql: `select e.ticket_id, -bm25(${sqliteIndexes.entries.fts}) as score from ${sqliteIndexes.entries.fts} join thread_entries e on e.id = ${sqliteIndexes.entries.fts}.rowid where ${sqliteIndexes.entries.fts} match ?`, bindings: [q] },
          { sql: `select rowid as ticket_id, -2 * bm25(${sqliteIndexes.subjects.fts}) as score from ${sqliteIndexes.subjects.fts} where ${sqliteIndexes.subjects.fts} match ?`, bindings: [q] },
          { sql: `select t.id as ticket_id, -bm25(${sqliteIndexes.requesters.fts}) as score from ${sqliteIndexes.requesters.fts} join tickets t on t.requester_id = ${sqliteIndexes.requesters.fts}.rowid where ${sqliteIndexes.requesters.fts} match ?`, bindings: [q] }
        )
        break
      }
      case 'postgres': {
        const q = tsQuery(terms)
        const vector = (expression: string): string => `to_tsvector('simple'::regconfig, tessera_fold(${expression}))`
        const part = (select: string, from: string, expression: string, weight: number): Match => ({
          sql: `select ${select} as ticket_id, ${weight} * ts_rank(${vector(expression)}, ${q.sql}) as score from ${from} where ${vector(expression)} @@ (${q.sql})`,
          bindings: [...q.bindings, ...q.bindings]
        })
        parts.push(
          part('e.ticket_id', 'thread_entries e', 'e.body', 1),
          part('t.id', 'tickets t', 't.subject', 2),
          part('t.id', 'requesters r join tickets t on t.requester_id = r.id', "r.name || ' ' || r.email", 1)
        )
        break
      }
      case 'mysql': {
        const q = booleanQuery(terms)
        const part = (select: string, from: string, columns: string, weight: number): Match => ({
          sql: `select ${select} as ticket_id, ${weight} * match(${columns}) against (? in boolean mode) as score from ${from} where match(${columns}) against (? in boolean mode)`,
          bindings: [q, q]
        })
        parts.push(
          part('e.ticket_id', 'thread_entries e', 'e.body', 1),
          part('t.id', 'tickets t', 't.subject', 2),
          part('t.id', 'requesters r join tickets t on t.requester_id = r.id', 'r.name, r.email', 1)
        )
        break
      }
    }
  }
  if (search.number !== null) parts.push({ sql: 'select id as ticket_id, 1000000 as score from tickets where number = ?', bindings: [search.number] })
  if (parts.length === 0) parts.push({ sql: 'select id as ticket_id, 0 as score from tickets where 1 = 0', bindings: [] })
  const scale = dialect === 'postgres' ? 100_000 : 1000
  const integer = dialect === 'mysql' ? 'signed' : dialect === 'postgres' ? 'bigint' : 'integer'
  return {
    sql: `(select h.ticket_id, cast(max(h.score) * ${scale} as ${integer}) as score from (${parts.map((part) => part.sql).join(' union all ')}) h group by h.ticket_id) s`,
    bindings: parts.flatMap((part) => part.bindings)
  }
}

function scoped (db: Db, access: AgentAccess, q: SearchQuery): Knex.QueryBuilder {
  const { sql, bindings } = hits(dialectOfDb(db), q.search)
  const query = db.from(db.raw(sql, bindings as Knex.RawBinding[]))
    .join('tickets as t', 't.id', 's.ticket_id')
    // A ticket in the trash, or merged into another (its thread lives there now), is not found.
    .whereNull('t.deleted_at')
    .whereNull('t.merged_into_id')
  visibleTo(query, access)
  filtered(query, q.filters)
  if (q.filters.createdFrom !== undefined) query.where('t.created_at', '>=', q.filters.createdFrom)
  if (q.filters.createdBefore !== undefined) query.where('t.created_at', '<', q.filters.createdBefore)
  return query
}

/** One page of results, best first, then most recently active. */
export async function searchTickets (db: Db, access: AgentAccess, q: SearchQuery): Promise<SearchRow[]> {
  if (q.search.terms.length === 0 && q.search.number === null) return []
  const page = scoped(db, access, q).select('t.id', 's.score')
  if (q.after) page.whereRaw('(s.score, t.last_activity_at, t.id) < (?, ?, ?)', [q.after.score, q.after.activity, q.after.id])
  const order = [{ column: 'score', order: 'desc' as const }, { column: 't.last_activity_at', order: 'desc' as const }, { column: 't.id', order: 'desc' as const }]
  page.orderBy([{ column: 's.score', order: 'desc' }, ...order.slice(1)]).limit(q.limit)
  const rows = await withNames<{ score: number }>(db, page, [{ column: 'page.score', order: 'desc' }, ...order.slice(1)], ['page.score'])
  for (const row of rows) row.score = Number(row.score)
  return rows
}

/** How many tickets a search finds for this agent (a saved search's count). */
export async function countSearch (db: Db, access: AgentAccess, q: Omit<SearchQuery, 'after' | 'limit'>): Promise<number> {
  if (q.search.terms.length === 0 && q.search.number === null) return 0
  const [row] = await scoped(db, access, { ...q, limit: 0 }).count({ n: '*' })
  return Number(row?.n ?? 0)
}

export interface SnippetSource { ticket_id: number, kind: EntryKind, body: string }

/** For each ticket, the thread entry that matches best: the text its result line quotes. */
export async function bestEntries (db: Db, search: ParsedSearch, ticketIds: number[]): Promise<Map<number, SnippetSource>> {
  const best = new Map<number, SnippetSource>()
  if (ticketIds.length === 0 || search.terms.length === 0) return best
  const ids = ticketIds.map(() => '?').join(', ')
  let match: Match
  switch (dialectOfDb(db)) {
    case 'sqlite':
      match = {
        sql: `select e.ticket_id, e.kind, e.body, bm25(entries_fts) as rank from entries_fts join thread_entries e on e.id = entries_fts.rowid where entries_fts match ? and e.ticket_id in (${ids}) order by rank`,
        bindings: [ftsQuery(search.terms), ...ticketIds]
      }
      break
    case 'postgres': {
      const q = tsQuery(search.terms)
      match = {
        sql: `select e.ticket_id, e.kind, e.body from thread_entries e where to_tsvector('simple'::regconfig, tessera_fold(e.body)) @@ (${q.sql}) and e.ticket_id in (${ids}) order by ts_rank(to_tsvector('simple'::regconfig, tessera_fold(e.body)), ${q.sql}) desc`,
        bindings: [...q.bindings, ...ticketIds, ...q.bindings]
      }
      break
    }
    case 'mysql': {
      const q = booleanQuery(search.terms)
      match = {
        sql: `select e.ticket_id, e.kind, e.body from thread_entries e where match(e.body) against (? in boolean mode) and e.ticket_id in (${ids}) order by match(e.body) against (? in boolean mode) desc`,
        bindings: [q, ...ticketIds, q]
      }
      break
    }
  }
  const result = await db.raw(match.sql, match.bindings as Knex.RawBinding[])
  const rows: SnippetSource[] = Array.isArray(result) ? (Array.isArray(result[0]) ? result[0] : result) : result.rows
  for (const row of rows) if (!best.has(row.ticket_id)) best.set(row.ticket_id, row)
  return best
}

// --- Saved searches: an agent's own queues ------------------------------------------------

export interface SavedSearch { id: number, agent_id: number, name: string, query: string, created_at: number }

export async function listSavedSearches (db: Db, agentId: number): Promise<SavedSearch[]> {
  return await db<SavedSearch>('saved_searches').where({ agent_id: agentId }).orderBy('name').orderBy('id')
}

export async function insertSavedSearch (db: Db, row: Omit<SavedSearch, 'id'>): Promise<number> {
  const [inserted] = await db('saved_searches').insert(row).returning('id')
  return insertedId(inserted)
}

export async function deleteSavedSearch (db: Db, agentId: number, id: number): Promise<boolean> {
  return await db('saved_searches').where({ id, agent_id: agentId }).delete() > 0
}
