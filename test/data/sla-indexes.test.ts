import t from 'tap'
import { seedTickets } from '../../bench/seed.js'
import { dialectOfDb } from '../../src/data/database.js'
import { listSlaChecksDue } from '../../src/data/sla.js'
import { testApp } from '../helpers/app.js'
import { queryPlan, type NativeQuery } from '../helpers/query-plan.js'

/*
 * The SLA pass and the Overdue queue read open tickets by an index on (status, instant),
 * never by scanning the table: the plans of their queries are checked on each database.
 */

t.test('the SLA pass and the Overdue queue use their indexes', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const now = Date.UTC(2026, 10, 26, 12, 0)
  await seedTickets(app.db, 3000, { now })
  // A clock on every tenth open ticket, half of them past due.
  const open = await app.db('tickets').where('status', 'open').pluck('id')
  const clocked = open.filter((_, i) => i % 10 === 0)
  for (const [i, id] of clocked.entries()) {
    const at = now + (i % 2 === 0 ? -1 : 1) * 3600_000
    await app.db('tickets').where({ id }).update({ sla_due_at: at, sla_check_at: at })
  }
  t.ok((await listSlaChecksDue(app.db, now, 500)).length > 0, 'the pass finds the tickets past their check')

  const queries = {
    pass: app.db('tickets').where('status', 'open').andWhere('sla_check_at', '<=', now).whereNull('deleted_at').orderBy('sla_check_at').limit(200).select('id').toSQL().toNative(),
    overdue: app.db('tickets as t').where('t.status', 'open').andWhere('t.sla_due_at', '<=', now).whereNull('t.deleted_at').orderBy([{ column: 't.sla_due_at' }, { column: 't.id' }]).limit(51).select('t.id').toSQL().toNative()
  }
  const indexes = { pass: 'tickets_status_sla_check', overdue: 'tickets_status_sla_due' }
  for (const [name, query] of Object.entries(queries) as Array<[keyof typeof queries, NativeQuery]>) {
    const plan = await queryPlan(app.db, query, ['seqscan'])
    t.match(plan.text, indexes[name], `${name}: its index`)
    if (dialectOfDb(app.db) === 'sqlite') t.notMatch(plan.text, /SCAN t(ickets)?\b(?! USING)/, `${name}: no table scan`)
  }
})
