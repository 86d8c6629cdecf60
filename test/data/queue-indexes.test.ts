import t from 'tap'
import { seedTickets } from '../../bench/seed.js'
import { loadAgentAccess } from '../../src/data/agents.js'
import { dialectOfDb, readLists } from '../../src/data/database.js'
import { listQueue, visibleTicketWithSiblingsList } from '../../src/data/queues.js'
import { testApp } from '../helpers/app.js'
import { queryPlan } from '../helpers/query-plan.js'

/*
 * "Mine" and "My teams" read their page from an index in activity order, never by sorting
 * every active ticket of the agent or team (123 ms on PostgreSQL, 1 s on MariaDB, at a
 * million tickets). The plan of the very query the queue page runs is checked on each database.
 */

/** The subquery that picks the page's ids (the queries around it only join names to 50 rows). */
function pageQuery (query: { sql: string, bindings: unknown[] }): { sql: string, bindings: unknown[] } {
  const start = query.sql.search(/\(select [`"]t[`"]\.[`"]id[`"] from/)
  let depth = 0
  let end = start
  for (; end < query.sql.length; end++) {
    if (query.sql[end] === '(') depth++
    else if (query.sql[end] === ')' && --depth === 0) break
  }
  const sql = query.sql.slice(start + 1, end)
  const before = (query.sql.slice(0, start).match(/\?/g) ?? []).length
  return { sql, bindings: query.bindings.slice(before, before + (sql.match(/\?/g) ?? []).length) }
}

for (const queue of ['mine', 'teams'] as const) {
  t.test(`the ${queue} queue is read in index order, without a sort`, async (t) => {
    const app = await testApp(t, {}, { startWorkers: false })
    const seed = await seedTickets(app.db, 3000)
    const access = (await loadAgentAccess(app.db, seed.agentIds[1]!))!
    const queries: Array<{ sql: string, bindings: unknown[] }> = []
    // PostgreSQL's SQL comes numbered ($1, $2…), in binding order like knex's ?.
    const listen = (query: { sql: string, bindings?: unknown[] }): void => { queries.push({ sql: query.sql.replace(/\$[0-9]+/g, '?'), bindings: query.bindings ?? [] }) }
    app.db.on('query', listen)
    await listQueue(app.db, access, { queue, filters: {}, sort: 'activity', limit: 51 })
    app.db.removeListener('query', listen)
    // A table this small could be read whole; what matters is that a plan without a sort exists.
    const plan = (await queryPlan(app.db, pageQuery(queries[0]!), ['seqscan', 'sort'])).text
    if (dialectOfDb(app.db) === 'postgres') {
      t.notMatch(plan, /"Node Type":"(Incremental )?Sort"/, 'no sort node')
      t.match(plan, queue === 'mine' ? 'tickets_active_assignee_activity' : 'tickets_active_team_activity', 'the active-tickets index')
    } else {
      t.notMatch(plan, /TEMP B-TREE FOR (RIGHT PART OF )?ORDER BY|Using filesort/, 'no sort')
      t.match(plan, queue === 'mine' ? 'tickets_assignee_recent' : 'tickets_team_recent', 'the index in activity order')
    }
  })
}

t.test('the Overdue queue sorted by activity is found through its due-time index, then sorted', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const seed = await seedTickets(app.db, 3000)
  const access = (await loadAgentAccess(app.db, seed.agentIds[1]!))!
  const now = Date.now()
  const open: Array<{ id: number }> = await app.db('tickets').where({ status: 'open' }).whereNull('deleted_at').orderBy('id').limit(6).select('id')
  // Six overdue tickets, active in the opposite order of their due times.
  for (const [i, { id }] of open.entries()) await app.db('tickets').where({ id }).update({ sla_due_at: now - (i + 1) * 60_000, last_activity_at: now - (6 - i) * 60_000 })
  const queries: Array<{ sql: string, bindings: unknown[] }> = []
  const listen = (query: { sql: string, bindings?: unknown[] }): void => { queries.push({ sql: query.sql.replace(/\$[0-9]+/g, '?'), bindings: query.bindings ?? [] }) }
  app.db.on('query', listen)
  const rows = await listQueue(app.db, { ...access, roles: Object.fromEntries(seed.departmentIds.map((id) => [id, 'manager' as const])) }, { queue: 'overdue', filters: {}, sort: 'activity', limit: 51, now })
  app.db.removeListener('query', listen)
  t.same(rows.map((row) => row.id), open.map((row) => row.id).reverse(), 'newest activity first')
  if (dialectOfDb(app.db) === 'sqlite') {
    t.match((await queryPlan(app.db, pageQuery(queries[0]!))).text, 'tickets_status_sla_due', 'read through the due-time index')
  }
})

t.test('a ticket page reads the requester\'s five newest other tickets along their index, never sorting them all', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const seed = await seedTickets(app.db, 3000)
  const access = (await loadAgentAccess(app.db, seed.agentIds[0]!))!
  // The requester with the most tickets, as a regular writing in every week would be.
  const { requester_id: requesterId } = await app.db('tickets').groupBy('requester_id').orderByRaw('count(*) desc').first('requester_id')
  const { number } = await app.db('tickets').where({ requester_id: requesterId }).orderBy('created_at').first('number')
  const queries: Array<{ sql: string, bindings: unknown[] }> = []
  const listen = (query: { sql: string, bindings?: unknown[] }): void => { queries.push({ sql: query.sql.replace(/\$[0-9]+/g, '?'), bindings: query.bindings ?? [] }) }
  app.db.on('query', listen)
  const { found } = await readLists(app.db, { found: visibleTicketWithSiblingsList(app.db, access, number) })
  app.db.removeListener('query', listen)
  t.equal(found?.ticket.number, number, 'the ticket comes first')
  t.equal(found?.others.length, 5, 'with five others')

  const plan = await queryPlan(app.db, queries.find((q) => q.sql.includes('requester_id'))!, ['seqscan', 'sort'])
  switch (dialectOfDb(app.db)) {
    case 'sqlite': {
      // The rows under the co-routine that reads the others: a search on the index, no sort.
      const rows = plan.rows as Array<{ id: number, parent: number, detail: string }>
      const others = rows.find((row) => row.detail === 'CO-ROUTINE others')!
      const under = (row: { parent: number }): boolean => row.parent === others.id || rows.some((p) => p.id === row.parent && under(p))
      const inside = rows.filter(under).map((row) => row.detail)
      t.ok(inside.some((detail) => /tickets_requester/.test(detail)), 'the others are found through the requester index')
      t.notOk(inside.some((detail) => /TEMP B-TREE/.test(detail)), 'in its order, without a sort')
      break
    }
    case 'postgres': {
      // Between the LIMIT of five and the scan of the requester index, no Sort node. (The
      // JSON nests plans in "Plans"; the page's final order of six rows is a Sort above both.)
      const sortsOverRequester = (value: unknown, nearest: string): boolean => {
        if (Array.isArray(value)) return value.some((item) => sortsOverRequester(item, nearest))
        if (typeof value !== 'object' || value === null) return false
        const node = value as Record<string, unknown>
        if (node['Index Name'] === 'tickets_requester' && nearest !== 'Limit') return true
        const type = node['Node Type']
        const next = type === 'Limit' || type === 'Sort' || type === 'Incremental Sort' ? type : nearest
        return Object.values(node).some((child) => typeof child === 'object' && sortsOverRequester(child, next))
      }
      t.match(plan.text, 'tickets_requester', 'the others are found through the requester index')
      t.notOk(sortsOverRequester(plan.rows, ''), 'in its order, without a sort')
      break
    }
    case 'mysql': {
      const rows = plan.rows as Array<{ key: string | null, Extra: string | null }>
      const requester = rows.filter((row) => row.key === 'tickets_requester')
      t.ok(requester.length > 0, 'the others are found through the requester index')
      t.notOk(requester.some((row) => /filesort/.test(row.Extra ?? '')), 'in its order, without a sort')
    }
  }
})
