import t from 'tap'
import { seedTickets } from '../../bench/seed.js'
import { listPendingToRemind, listRemindedUnanswered, listResolvedSince } from '../../src/data/automation.js'
import { dialectOfDb } from '../../src/data/database.js'
import { testApp } from '../helpers/app.js'
import { queryPlan, type NativeQuery } from '../helpers/query-plan.js'

/*
 * The automation passes (auto-close, the reminder, auto-resolve) read tickets through an
 * index range in their own order and filter on index entries alone, never scanning the
 * table: the plans of the queries the passes really send are checked on each database.
 */

const day = 86_400_000

t.test('the auto-close, reminder and auto-resolve passes use their indexes', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const now = Date.UTC(2026, 10, 26, 12, 0)
  await seedTickets(app.db, 3000, { now })
  // Most quiet pending tickets were reminded already and have not answered: what the
  // reminder pass must skip without reading their rows, and auto-resolve looks for.
  await app.db('tickets').where('status', 'pending').andWhere('last_activity_at', '<=', now - 4 * day)
    .update({ reminded_at: app.db.raw('last_activity_at + ?', [3 * day]) })
  const dialect = dialectOfDb(app.db)
  if (dialect === 'postgres') await app.db.raw('vacuum analyze tickets')
  else if (dialect === 'mysql') await app.db.raw('analyze table tickets')
  else await app.db.raw('analyze')

  const sent: NativeQuery[] = []
  const capture = (query: { sql: string, bindings?: readonly unknown[] }): void => { sent.push({ sql: query.sql, bindings: query.bindings ?? [] }) }
  app.db.on('query', capture)
  const found = {
    autoClose: await listResolvedSince(app.db, 'auto_close', now - 7 * day, now, 100),
    reminder: await listPendingToRemind(app.db, 'pending_reminder', now - 3 * day, now, 100),
    autoResolve: await listRemindedUnanswered(app.db, 'auto_resolve', now - 3 * day, now, 100)
  }
  app.db.off('query', capture)
  for (const [pass, ids] of Object.entries(found)) t.ok(ids.length > 0, `${pass} finds tickets due`)
  t.equal(sent.length, 3, 'one query per pass')

  const expected = [
    { pass: 'autoClose', index: 'tickets_status_resolved', covering: false },
    { pass: 'reminder', index: 'tickets_pending_remind', covering: true },
    { pass: 'autoResolve', index: 'tickets_status_reminded_live', covering: true }
  ]
  for (const [i, { pass, index, covering }] of expected.entries()) {
    // A few thousand rows are cheaper to sort than to walk in order; a desk of a million is
    // not. Sorting and scanning priced out, PostgreSQL's plan shows whether an index serves
    // the query in its order (without one it sorts anyway).
    const plan = await queryPlan(app.db, sent[i]!, ['seqscan', 'bitmapscan', 'sort'])
    if (dialect === 'postgres') {
      t.match(plan.text, new RegExp(`"Node Type":"Index ${covering ? 'Only ' : ''}Scan"[^{}]*"Index Name":"${index}","Relation Name":"tickets"`), `${pass}: ${index}${covering ? ', from the index alone' : ''}`)
      t.notMatch(plan.text, /"Node Type":"(Seq Scan|(Incremental )?Sort)"/, `${pass}: no table scan, no sort`)
    } else if (dialect === 'sqlite') {
      t.match(plan.text, `USING ${covering ? 'COVERING ' : ''}INDEX ${index} `, `${pass}: ${index}${covering ? ', from the index alone' : ''}`)
      t.notMatch(plan.text, /SCAN t\b|TEMP B-TREE/, `${pass}: no table scan, no sort`)
    } else {
      // MariaDB, on a desk this small, may take either covering index (each holds every
      // column both pending passes read) and sort the few hundred entries: what is pinned
      // here is that the pass reads index entries only, a range of them, never the table.
      const tickets = (plan.rows as Array<{ table: string, type: string, key: string | null, Extra: string | null }>).find((row) => row.table === 't')
      if (covering) {
        t.match(tickets?.key, /^(tickets_pending_remind|tickets_status_reminded_live)$/, `${pass}: a covering index`)
        t.match(tickets?.Extra ?? '', 'Using index', `${pass}: from the index alone`)
      } else {
        t.equal(tickets?.key, index, `${pass}: ${index}`)
        t.notMatch(tickets?.Extra ?? '', /filesort/, `${pass}: no sort`)
      }
      t.not(tickets?.type, 'ALL', `${pass}: no table scan`)
    }
  }
})
