import type { Knex } from 'knex'
import { dialectOfDb, withoutLimits } from '../src/data/database.js'
import { benchLargeDesk, databaseName } from './large-desk.js'

/**
 * Search page latency on a large desk, one connection, one request after the other:
 *
 *   npx tsx bench/search.ts --tickets 1000000
 *   npx tsx bench/search.ts --tickets 1000000 --database-url postgres://postgres@127.0.0.1:5432/test
 *
 * Uses the desk bench/queues.ts keeps (seeded on first use), and gives each ticket three
 * thread entries in all (a reply and a note added in SQL, once) so a million tickets hold
 * three million entries. Each search is timed around the whole page request: the match,
 * the permission scope, ranking, the page of names and the quoted snippets.
 */

const replies = [
  'Thank you for the details. Could you send a screenshot of the error and the exact time it happened?',
  'We changed a setting on the Firefox profile; please try again and tell us whether the upload works.',
  'The invoice with the missing VAT number has been corrected and sent again as a PDF.',
  'Our engineers found the cause: a cache on the reporting server. The monthly report works again.'
]
const notes = [
  'Checked the logs: timeout on the storage node at 03:12, same as ticket from last week.',
  'Customer is on the legacy plan; billing needs to approve the refund before we answer.',
  'Probably the Safari extension again; asked for the browser version.',
  'Escalated to the second line, waiting on the database team.'
]

/**
 * Two more entries per ticket (a reply an hour after it opened, then a note an hour later),
 * written in SQL once. The whole thread is written again in time order, as a desk writes
 * it: each ticket's opening message, reply and note follow the previous ticket's, so the
 * newest entries are a mix of every kind, as on a desk in use. (A desk kept by an earlier
 * version of this script has every opening message first, then replies and notes kind by
 * kind, 50,000 tickets at a time: its newest 2,000,000 entries hold no opening message, a
 * desk where no ticket had been opened for months. Such a desk is thickened again.)
 */
async function thickenThreads (db: Knex, tickets: number, log: (line: string) => void): Promise<void> {
  const entries = Number((await db('thread_entries').count({ n: '*' }).first() as { n: number | string }).n)
  const newestKinds = await db('thread_entries').orderBy('id', 'desc').limit(3).pluck('kind') as string[]
  if (entries >= tickets * 3 && newestKinds.includes('message')) return
  const started = Date.now()
  if (entries > tickets) {
    log('this desk\'s thread entries were written kind by kind: writing them again in time order…')
    await withoutLimits(db, async (own) => { await own('thread_entries').whereIn('kind', ['response', 'note']).delete() })
  }
  log(`writing each of ${tickets.toLocaleString('en-US')} tickets' opening message again, with a reply and a note…`)
  const seeded = Number((await db('thread_entries').max({ max: 'id' }).first() as { max: number | string | null }).max ?? 0)
  const chunk = 50_000
  const max = Number((await db('tickets').max({ max: 'id' }).first() as { max: number | string | null }).max ?? 0)
  // The text depends on the ticket id, so words are spread unevenly, as in a real desk.
  const text = (texts: string[]): string => `case ${texts.map((_, i) => `when t.id % ${texts.length} = ${i} then ?`).join(' ')} end`
  // Each step takes longer than a request may (statement timeouts).
  await withoutLimits(db, async (own) => {
    for (let from = 0; from <= max; from += chunk) {
      await own.raw(`insert into thread_entries (ticket_id, kind, agent_id, requester_id, body, created_at, staff_only)
      select ticket_id, kind, agent_id, requester_id, body, created_at, ? from (
        select e.ticket_id, e.kind, e.agent_id, e.requester_id, e.body, e.created_at, 0 as later
        from thread_entries e where e.id <= ? and e.ticket_id > ? and e.ticket_id <= ?
        union all
        select t.id, k.kind, t.assignee_id, null, case when k.kind = 'response' then ${text(replies)} else ${text(notes)} end, t.created_at + k.later, k.later
        from tickets t cross join (select 'response' as kind, 3600000 as later union all select 'note', 7200000) k
        where t.id > ? and t.id <= ?
      ) thread order by ticket_id, later`, [false, seeded, from, from + chunk, ...replies, ...notes, from, from + chunk])
    }
    await own('thread_entries').where('id', '<=', seeded).delete()
    const dialect = dialectOfDb(db)
    // Rewriting three million entries leaves SQLite's index in hundreds of segments and
    // deletion markers, which a desk written one ticket at a time never has (its segments
    // are merged as they are written); merged into one, as the seed's bulk writes left it.
    if (dialect === 'sqlite') await own.raw("insert into entries_fts(entries_fts) values('optimize')")
    await own.raw(dialect === 'postgres' ? 'VACUUM ANALYZE thread_entries' : dialect === 'mysql' ? 'ANALYZE TABLE thread_entries' : 'ANALYZE thread_entries')
  })
  log(`threads written in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

const searches = [
  { name: 'one word', q: 'firefox' },
  { name: 'one rare word', q: 'extension' },
  { name: 'two words', q: 'invoice pdf' },
  { name: 'phrase', q: '"monthly report"' },
  { name: 'prefix', q: 'screensh' },
  { name: 'requester name', q: 'zofia' },
  { name: 'one word, status open', q: 'firefox', filter: 'status=open' },
  { name: 'two words, department', q: 'invoice pdf', filter: 'department=1' },
  { name: 'phrase, priority high', q: '"monthly report"', filter: 'priority=3' }
]

await benchLargeDesk({ requests: 50, warmup: 5 }, async ({ app, s, log }) => {
  await thickenThreads(app.db, s.tickets, log)
  const entries = Number((await app.db('thread_entries').count({ n: '*' }).first() as { n: number | string }).n)
  return {
    title: `Search at ${s.tickets.toLocaleString('en-US')} tickets, ${entries.toLocaleString('en-US')} thread entries, on ${databaseName(s.databaseUrl)}`,
    row: 'search',
    counted: 'results on page',
    pages: searches.map((search) => ({
      name: `${search.name} (${search.q}${search.filter ? `, ${search.filter}` : ''})`,
      path: `/staff/search?q=${encodeURIComponent(search.q)}${search.filter ? `&${search.filter}` : ''}`,
      count: /class="result-title"/g
    }))
  }
})
