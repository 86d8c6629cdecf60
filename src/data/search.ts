import type { Knex } from 'knex'
import type { AgentAccess } from './agents.js'
import { dialectOfDb, insertedId, type Db } from './database.js'
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

/** PostgreSQL: a text search condition on the table of this alias, and its bindings. */
type Test = (alias: string) => [string, Knex.RawBinding[]]

// SQLite FTS5: each term a quoted string of its tokens (a phrase), `*` after a prefix, or
// the words a prefix stands for, any of them.
function ftsQuery (terms: SearchTerm[], words?: Map<SearchTerm, string[]>): string {
  return terms.map((term) => {
    const alternatives = words?.get(term)
    if (alternatives !== undefined) return `(${alternatives.map((word) => `"${word}"`).join(' OR ')})`
    return `"${term.tokens.join(' ')}"${term.prefix ? '*' : ''}`
  }).join(' AND ')
}

/** At most this many words stand for a prefix; a prefix more words share stays a prefix. */
const wordsPerPrefix = 8

/**
 * SQLite: FTS5 answers a prefix query by merging the whole list of every word with that
 * prefix before it hands out the newest rows: for a common word, most of the index (35 ms
 * of a search's 66 at a million tickets). The same words asked for by name, any of them,
 * are read lazily, newest first. So for the thread entries, each one-word prefix becomes the
 * words of the entries' vocabulary that begin with it (a few seeks in the index), when there
 * are few enough; the subjects' and requesters' indexes are small and keep the prefix.
 */
async function entryWords (db: Db, terms: SearchTerm[]): Promise<Map<SearchTerm, string[]>> {
  const words = new Map<SearchTerm, string[]>()
  for (const term of terms) {
    if (!term.prefix || term.tokens.length !== 1) continue
    const prefix = term.tokens[0]!
    const found: string[] = []
    // Words in index order: each next one is the first at or after the last found plus \x01.
    for (let from = prefix; found.length <= wordsPerPrefix;) {
      const row: { term: string } | undefined = await db('entries_fts_vocab').where('term', '>=', from).first('term')
      if (!row?.term.startsWith(prefix)) break
      found.push(row.term)
      from = `${row.term}\u0001`
    }
    if (found.length > 0 && found.length <= wordsPerPrefix) words.set(term, found)
  }
  return words
}

// PostgreSQL: each term parsed by the same parser as the index, a prefix as `token:*`.
function tsQuery (terms: SearchTerm[]): Match {
  const parts = terms.map((term) => term.prefix && term.tokens.length === 1
    ? { sql: "to_tsquery('simple'::regconfig, ?)", binding: `${term.tokens[0]!}:*` }
    : { sql: "phraseto_tsquery('simple'::regconfig, tessera_fold(?))", binding: term.text })
  return { sql: parts.map((part) => part.sql).join(' && '), bindings: parts.map((part) => part.binding) }
}

/** Where each table's newest rows begin, for `newestFirst` in `matchParts`. */
interface Windows { thread_entries: number, tickets: number, requesters: number }

/**
 * PostgreSQL: the newest √(ranked × rows) rows of each table, which balances the two ways
 * `newestFirst` reads: at 3,000,000 entries and 500 ranked, the newest 38,730 are walked
 * at most, and a word with fewer matches than 500 among them has under 1.3 % of the rest.
 * The bounds are sent as values so the planner sees them.
 */
async function newestWindows (db: Db, ranked: number): Promise<Windows> {
  const tables = ['thread_entries', 'tickets', 'requesters'] as const
  const row: Record<string, number | string | null> = await db.first(tables.map((table) => db(table).max('id').as(table)))
  const since = (table: typeof tables[number]): number => {
    const newest = Number(row[table] ?? 0)
    return newest - Math.ceil(Math.sqrt(ranked * newest))
  }
  return { thread_entries: since('thread_entries'), tickets: since('tickets'), requesters: since('requesters') }
}

/** What a search's SQL is built from besides the query: read first, each database its own. */
interface Lookups { words: Map<SearchTerm, string[]>, windows?: Windows }

async function lookups (db: Db, terms: SearchTerm[], ranked: number): Promise<Lookups> {
  switch (dialectOfDb(db)) {
    case 'sqlite': return { words: await entryWords(db, terms) }
    case 'postgres': return { words: new Map(), windows: terms.length > 0 ? await newestWindows(db, ranked) : undefined }
    default: return { words: new Map() }
  }
}

// MySQL/MariaDB boolean mode: every term required, phrases quoted, `*` after a prefix.
function booleanQuery (terms: SearchTerm[]): string {
  return terms.map((term) => term.tokens.length > 1
    ? `+"${term.tokens.join(' ')}"`
    : `+${term.tokens[0]!}${term.prefix ? '*' : ''}`).join(' ')
}

/**
 * How many matches of each kind (thread entries, subjects, requesters) a search ranks: the
 * most recent ones the agent may open, after the filters. A word found in more places than
 * that ranks its most recent places; more words or a filter reach further back. Ranking
 * every match of a common word costs time in proportion to the desk's whole history (seconds
 * at a million tickets); this keeps a search's cost flat as the desk grows.
 */
export const rankedMatches = 500

/** Who may see it, the filters, and never a trashed or merged ticket: every match passes these. */
function conditions (query: Knex.QueryBuilder, access: AgentAccess, filters: SearchFilters): Knex.QueryBuilder {
  // A ticket in the trash, or merged into another (its thread lives there now), is not found.
  query.whereNull('t.deleted_at').whereNull('t.merged_into_id')
  visibleTo(query, access)
  filtered(query, filters)
  if (filters.createdFrom !== undefined) query.where('t.created_at', '>=', filters.createdFrom)
  if (filters.createdBefore !== undefined) query.where('t.created_at', '<', filters.createdBefore)
  return query
}

/**
 * Each kind of match as a query of `(ticket_id, score)`: its `ranked` most recent matches
 * (newest row first, so the database reads the index in order and stops: for a requester,
 * the newest requesters' tickets), scored by the database's own relevance function, a
 * subject counting double.
 */
function matchParts (db: Db, access: AgentAccess, q: Omit<SearchQuery, 'after' | 'limit'>, ranked: number, { words, windows }: Lookups): Knex.QueryBuilder[] {
  const parts: Knex.QueryBuilder[] = []
  const terms = q.search.terms
  const recent = (query: Knex.QueryBuilder, column: string): Knex.QueryBuilder =>
    conditions(query, access, q.filters).orderBy(column, 'desc').limit(ranked)
  if (terms.length > 0) {
    switch (dialectOfDb(db)) {
      case 'sqlite': {
        const match = ftsQuery(terms)
        // bm25 is lower for better matches. FTS5 hands rows out in rowid order, so the
        // function runs only for the rows kept.
        parts.push(
          recent(db.from('entries_fts').join('thread_entries as e', 'e.id', 'entries_fts.rowid').join('tickets as t', 't.id', 'e.ticket_id')
            .whereRaw('entries_fts match ?', [ftsQuery(terms, words)]).select('t.id as ticket_id', db.raw('-bm25(entries_fts) as score')), 'entries_fts.rowid'),
          recent(db.from('tickets_fts').join('tickets as t', 't.id', 'tickets_fts.rowid')
            .whereRaw('tickets_fts match ?', [match]).select('t.id as ticket_id', db.raw('-2 * bm25(tickets_fts) as score')), 'tickets_fts.rowid'),
          recent(db.from('requesters_fts').join('tickets as t', 't.requester_id', 'requesters_fts.rowid')
            .whereRaw('requesters_fts match ?', [match]).select('t.id as ticket_id', db.raw('-bm25(requesters_fts) as score')), 'requesters_fts.rowid')
        )
        break
      }
      case 'postgres': {
        const match = tsQuery(terms)
        // Each table keeps its text's tsvector in search_vector (see the search_vectors
        // migration). ts_rank runs outside, on the rows kept only. (The query comes in by a
        // join: knex would bind a select-list value before the subquery's.)
        const bindings = match.bindings as Knex.RawBinding[]
        const indexed: Test = (alias) => [`${alias}.search_vector @@ (${match.sql})`, bindings]
        const walked: Test = (alias) => [`ts_match_vq(${alias}.search_vector, (${match.sql}))`, bindings]
        // The most recent matches, in two steps. The planner either walks the table
        // newest first, testing each row (quick for a common word, a scan of the whole table for
        // a rare one), or reads every match from the GIN index and sorts them (quick for a rare
        // word; for a common one, or a phrase of common words, half a million places), and it
        // guesses which word is which (for a word outside its statistics, or a phrase, it guesses
        // rare). So it gets no choice: first the newest rows, from `since` on, are walked, the test
        // written as a function call (`ts_match_vq`, what `@@` calls), which no index serves. Only
        // when those hold fewer than `ranked` matches, the word is rare enough for the index to
        // read every older match, and the order by `+ 0` takes the walk away there.
        const newestFirst = (build: (test: Test) => Knex.QueryBuilder, column: string, since: number): Knex.QueryBuilder => {
          const older = conditions(build(indexed).where(column, '<=', since), access, q.filters)
            .whereRaw('(select count(*) from newest) < ?', [ranked]).orderByRaw(`${column} + 0 desc`).limit(ranked)
          return db.queryBuilder().withMaterialized('newest', recent(build(walked).where(column, '>', since), column))
            .from(db.select('*').from('newest').unionAll(older, true).as('u')).select('*').orderBy('u.id', 'desc').limit(ranked)
        }
        const rank = (kept: Knex.QueryBuilder, table: string, weight: number, ticketId: string): Knex.QueryBuilder => {
          const alias = table.split(' as ')[1]!
          return db.from(kept.as('c')).join(table, `${alias}.id`, 'c.id')
            .joinRaw(`cross join (select ${match.sql} as q) as query`, match.bindings as string[])
            .select(`${ticketId} as ticket_id`, db.raw(`${weight} * ts_rank(${alias}.search_vector, query.q) as score`))
        }
        const since = windows!
        parts.push(
          rank(newestFirst((test) => db.from('thread_entries as e').join('tickets as t', 't.id', 'e.ticket_id').whereRaw(...test('e')).select('e.id', 't.id as ticket_id'),
            'e.id', since.thread_entries), 'thread_entries as e', 1, 'c.ticket_id'),
          rank(newestFirst((test) => db.from('tickets as t').whereRaw(...test('t')).select('t.id'), 't.id', since.tickets), 'tickets as t', 2, 't.id'),
          // A requester's tickets are read by requester, after the match: the planner, taking
          // a match for common, would otherwise hash every ticket the filters leave.
          rank(newestFirst((test) => db.from('requesters as r').whereRaw(...test('r'))
            .joinRaw('cross join lateral (select * from tickets where tickets.requester_id = r.id offset 0) as t').select('r.id', 't.id as ticket_id'),
          'r.id', since.requesters), 'requesters as r', 1, 'c.ticket_id')
        )
        break
      }
      case 'mysql': {
        const match = booleanQuery(terms)
        const part = (from: Knex.QueryBuilder, columns: string, weight: number, newest: string): Knex.QueryBuilder =>
          recent(from.whereRaw(`match(${columns}) against (? in boolean mode)`, [match])
            .select('t.id as ticket_id', db.raw(`${weight} * match(${columns}) against (? in boolean mode) as score`, [match])), newest)
        parts.push(
          part(db.from('thread_entries as e').join('tickets as t', 't.id', 'e.ticket_id'), 'e.body', 1, 'e.id'),
          part(db.from('tickets as t'), 't.subject', 2, 't.id'),
          part(db.from('requesters as r').join('tickets as t', 't.requester_id', 'r.id'), 'r.name, r.email', 1, 'r.id')
        )
        break
      }
    }
  }
  if (q.search.number !== null) {
    parts.push(conditions(db.from('tickets as t').where('t.number', q.search.number).select('t.id as ticket_id', db.raw('1000000 as score')), access, q.filters))
  }
  return parts
}

/** The parts one after the other (UNION ALL), each row its `ticket_id` and `column(i)` of part i. */
function allMatches (db: Db, parts: Knex.QueryBuilder[], column: (i: number) => string | Knex.Raw): Knex.QueryBuilder {
  const each = parts.map((part, i) => db.from(part.as(`m${i}`)).select('ticket_id', column(i)))
  return each.length === 1 ? each[0]! : each[0]!.unionAll(each.slice(1))
}

/** The tickets that match, each once with its best score: a derived table `s(ticket_id, score)`. */
function hits (db: Db, parts: Knex.QueryBuilder[]): Knex.QueryBuilder {
  const dialect = dialectOfDb(db)
  const scale = dialect === 'postgres' ? 100_000 : 1000
  const integer = dialect === 'mysql' ? 'signed' : dialect === 'postgres' ? 'bigint' : 'integer'
  return db.from(allMatches(db, parts, () => 'score').as('h')).select('h.ticket_id', db.raw(`cast(max(h.score) * ${scale} as ${integer}) as score`)).groupBy('h.ticket_id').as('s')
}

/** One page of results, best first, then most recently active. */
export async function searchTickets (db: Db, access: AgentAccess, q: SearchQuery, ranked = rankedMatches): Promise<SearchRow[]> {
  const parts = matchParts(db, access, q, ranked, await lookups(db, q.search.terms, ranked))
  if (parts.length === 0) return []
  const page = db.from(hits(db, parts)).join('tickets as t', 't.id', 's.ticket_id').select('t.id', 's.score')
  if (q.after) page.whereRaw('(s.score, t.last_activity_at, t.id) < (?, ?, ?)', [q.after.score, q.after.activity, q.after.id])
  const order = [{ column: 'score', order: 'desc' as const }, { column: 't.last_activity_at', order: 'desc' as const }, { column: 't.id', order: 'desc' as const }]
  page.orderBy([{ column: 's.score', order: 'desc' }, ...order.slice(1)]).limit(q.limit)
  const rows = await withNames<{ score: number }>(db, page, [{ column: 'page.score', order: 'desc' }, ...order.slice(1)], ['page.score'])
  for (const row of rows) row.score = Number(row.score)
  return rows
}

/**
 * How many tickets a search finds for this agent (a saved search's count): `atLeast` when
 * a kind of match reached `ranked`, so there may be more.
 */
export async function countSearch (db: Db, access: AgentAccess, q: Omit<SearchQuery, 'after' | 'limit'>, ranked = rankedMatches): Promise<{ count: number, atLeast: boolean }> {
  const parts = matchParts(db, access, q, ranked, await lookups(db, q.search.terms, ranked))
  if (parts.length === 0) return { count: 0, atLeast: false }
  // The part's number is written out: knex would bind a select-list value before the subquery's.
  const rows: Array<{ ticket_id: number, part: number | string }> = await allMatches(db, parts, (i) => db.raw(`${i} as part`))
  const perPart = new Map<number, number>()
  for (const row of rows) perPart.set(Number(row.part), (perPart.get(Number(row.part)) ?? 0) + 1)
  return { count: new Set(rows.map((row) => row.ticket_id)).size, atLeast: [...perPart.values()].some((n) => n >= ranked) }
}

export interface SnippetSource { ticket_id: number, kind: EntryKind, body: string }

/**
 * The thread entries of these tickets (a page of results), for the page to quote the best
 * of each. Read by ticket rather than through the full-text index: a common word's whole
 * list of matches would otherwise be read to find the few on this page.
 */
export async function entriesOfTickets (db: Db, ticketIds: number[]): Promise<SnippetSource[]> {
  if (ticketIds.length === 0) return []
  return await db('thread_entries').whereIn('ticket_id', ticketIds).orderBy('id').select('ticket_id', 'kind', 'body')
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
