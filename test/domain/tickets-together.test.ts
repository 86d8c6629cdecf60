import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { dialectOfDb, insertedId, isUniqueViolation } from '../../src/data/database.js'
import { listOutbox } from '../../src/data/outbox.js'
import type { NewTicketInput, OpenedTicket } from '../../src/domain/lifecycle.js'
import { isTesseraError } from '../../src/domain/errors.js'
import { sharedApps, testApp, testClock } from '../helpers/app.js'

/*
 * New tickets that arrive together are opened in one transaction (group commit): each gets
 * everything a ticket opened alone gets, one that cannot be opened fails alone, and the
 * batch costs a few statements however many tickets it holds.
 */

const hour = 3_600_000

function asked (i: number, extra: Partial<NewTicketInput> = {}): NewTicketInput {
  return { name: `Client ${i}`, email: `client-${i}@example.com`, subject: `Printer ${i} jams`, message: `Page ${i} jams.`, helpTopicId: 1, ...extra }
}

/**
 * The statements sent and answered from now on, and whether each ran in a transaction (Knex
 * marks those with its id). `lastTransaction` counts the times the last transaction waited
 * for an answer before sending more: the first statement after BEGIN waited for BEGIN's answer
 * (which Knex does not report), and each other one sent after an answer came had waited for
 * it. `reads` are the transaction's reads, but for the ids MySQL reads back after an insert.
 */
function logStatements (app: FastifyInstance): { readBeforeBegin: (table: string) => boolean, lastTransaction: () => { waits: number, reads: string[], listing: string } } {
  const log: Array<{ sent: boolean, sql: string, inTransaction: boolean }> = []
  type Query = { sql: string, __knexTxId?: string }
  app.db.on('query', (query: Query) => log.push({ sent: true, sql: query.sql, inTransaction: query.__knexTxId !== undefined }))
  app.db.on('query-response', (_rows: unknown, query: Query) => log.push({ sent: false, sql: query.sql, inTransaction: query.__knexTxId !== undefined }))
  const lastSent = (pattern: RegExp): number => log.map((e) => e.sent && pattern.test(e.sql.trim())).lastIndexOf(true)
  return {
    readBeforeBegin: (table) => {
      const pattern = new RegExp(`^select\\b.* from [\`"]${table}[\`"]`, 'i')
      const read = log.findIndex((e) => e.sent && pattern.test(e.sql.trim()))
      return read >= 0 && read < lastSent(/^begin\b/i)
    },
    lastTransaction: () => {
      const written = log.slice(lastSent(/^begin\b/i), lastSent(/^commit\b/i) + 1).filter((e) => e.inTransaction)
      return {
        waits: 1 + written.filter((e, i) => e.sent && i > 0 && !written[i - 1]!.sent).length,
        reads: written.filter((e) => e.sent && /^select\b/i.test(e.sql.trim()) && !/ from `(requesters|tickets|thread_entries)` where/.test(e.sql)).map((e) => e.sql),
        listing: written.map((e) => `${e.sent ? '>' : '<'} ${e.sql.slice(0, 70)}`).join('\n')
      }
    }
  }
}

/**
 * Opens `count` pooled connections now. PostgreSQL's and MariaDB's pools open connections as
 * they are first needed; a read that had to wait for one, in the middle of a batch, would be
 * sent only after reads sent beside it were answered. SQLite's writer has one connection.
 */
async function openConnections (app: FastifyInstance, count: number): Promise<void> {
  if (dialectOfDb(app.db) === 'sqlite') return
  const pool = app.db.client as { acquireConnection: () => Promise<unknown>, releaseConnection: (conn: unknown) => Promise<unknown> }
  const held = await Promise.all(Array.from({ length: count }, async () => await pool.acquireConnection()))
  await Promise.all(held.map(async (conn) => await pool.releaseConnection(conn)))
}

/** Starts one opening, then `count` more while it runs: those go in one batch. */
async function openTogether (app: FastifyInstance, inputs: NewTicketInput[]): Promise<Array<PromiseSettledResult<OpenedTicket>>> {
  return await Promise.allSettled(inputs.map(async (input) => await app.lifecycle.openTicket(input)))
}

async function deskWithAgentAndPlan (app: FastifyInstance): Promise<void> {
  await app.db('agents').insert({ id: 1, name: 'Ada Lovelace', email: 'ada@desk.test', password_hash: 'set', is_admin: false, active: true, created_at: 0 })
  await app.db('agent_departments').insert({ agent_id: 1, department_id: 1, role: 'agent' })
  await app.db('sla_plans').insert({ id: 1, name: 'Standard', first_response_hours: 4, resolution_hours: 24, schedule_id: null, created_at: 0 })
  await app.db('help_topics').where({ id: 1 }).update({ sla_plan_id: 1 })
}

t.test('tickets opened at once each get their thread, events, counters, link and notices, for a few statements in all', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { now: clock.now, startWorkers: false })
  await deskWithAgentAndPlan(app)
  const statements: string[] = []
  app.db.on('query', (query: { sql: string }) => statements.push(query.sql))

  await app.lifecycle.openTicket(asked(0))
  const alone = statements.length
  statements.length = 0
  // Client 1 writes twice at once with two different questions: one requester, two tickets.
  const inputs = [...Array.from({ length: 30 }, (_, i) => asked(i + 1)), asked(1, { subject: 'Scanner too' })]
  const results = await openTogether(app, inputs)
  t.same(results.map((r) => r.status), inputs.map(() => 'fulfilled'), 'every opening succeeds')
  t.ok(statements.length < 4 * alone, `31 tickets at once cost ${statements.length} statements; one alone costs ${alone}`)

  const opened = results.map((r) => (r as PromiseFulfilledResult<OpenedTicket>).value)
  t.equal(new Set(opened.map((o) => o.ticket.number)).size, 31, 'each has a number of its own')
  t.equal(new Set(opened.map((o) => o.accessToken)).size, 31, 'and a private link of its own')
  const ids = opened.map((o) => o.ticket.id)
  const tickets = await app.db('tickets').whereIn('id', ids).orderBy('id')
  t.equal(tickets.length, 31)
  t.equal(new Set(tickets.filter((row) => row.requester_name_given === 'Client 1').map((row) => row.requester_id)).size, 1, 'one person writing twice is one requester')
  t.ok(tickets.every((row) => Number(row.sla_due_at) === clock.now() + 4 * hour && Number(row.resolution_due_at) === clock.now() + 24 * hour), 'each runs on the topic’s SLA plan')
  const entries = await app.db('thread_entries').whereIn('ticket_id', ids)
  t.same(entries.map((row) => [row.ticket_id, row.body]).sort(), opened.map((o, i) => [o.ticket.id, inputs[i]!.message]).sort(), 'each with its own words')
  const events = await app.db('events').whereIn('ticket_id', ids).orderBy('id')
  for (const id of ids) {
    t.same(events.filter((row) => row.ticket_id === id).map((row) => row.type), ['created', 'sla'], `ticket ${id}: created, then its clock started`)
  }
  t.equal((await app.db('ticket_access_tokens').whereIn('ticket_id', ids)).length, 31, 'one stored link each')
  const outbox = (await listOutbox(app.db, {})).filter((m) => ids.includes(m.ticket_id!))
  t.equal(outbox.filter((m) => m.template === 'ticket_received').length, 31, 'each requester is told')
  t.equal(outbox.filter((m) => m.template === 'new_ticket' && m.to_address === 'ada@desk.test').length, 31, 'and the agent hears of each')
  const created = await app.db('report_daily').where({ dimension: 'department', department_id: 1 }).sum({ n: 'created' }).first() as { n: number | string }
  t.equal(Number(created.n), 32, 'the day’s counter holds every ticket, the first one alone included')
})

t.test('a batch waits on the database four times between BEGIN and COMMIT: what needs no other answer is sent at once', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await deskWithAgentAndPlan(app)
  await app.lifecycle.openTicket(asked(0, { email: 'rosa@example.com' }))
  await openConnections(app, 10)
  const log = logStatements(app)
  // A known requester and new ones, each ticket on the topic's SLA plan.
  const results = await openTogether(app, [asked(1), asked(2, { email: 'rosa@example.com' }), asked(3), asked(4)])
  t.same(results.map((r) => r.status), results.map(() => 'fulfilled'))
  // What the first step reads (topics, known requesters, free numbers) is asked while the
  // transaction begins, on other connections; what it reads later, beside its writes.
  for (const table of ['help_topics', 'requesters', 'tickets']) t.ok(log.readBeforeBegin(table), `${table} is read before BEGIN is sent`)
  const { waits, reads, listing } = log.lastTransaction()
  t.same(reads, [], 'the transaction reads nothing but ids MySQL cannot return')
  // MySQL has no RETURNING: it reads back the ids of the requesters, tickets and messages it inserted.
  t.equal(waits, dialectOfDb(app.db) === 'mysql' ? 7 : 4, `for BEGIN; for new requesters; for the tickets; for their entries, events, counters, links and notices; then COMMIT:\n${listing}`)
  t.equal((await app.db('outbox').where({ template: 'new_ticket' })).length, 5, 'and each ticket was told to the department')
})

t.test('a batch across departments reads whom they tell in one query: agents and managers, managers only, or nobody', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const departments = { agents: 1, managers: 0, nobody: 0 }
  for (const audience of ['managers', 'nobody'] as const) {
    const [row] = await app.db('departments').insert({ name: `Tells ${audience}`, new_ticket_notice: audience, created_at: 0 }).returning('id')
    departments[audience] = insertedId(row)
  }
  const topics: number[] = []
  for (const [name, departmentId] of Object.entries(departments)) {
    const [row] = await app.db('help_topics').insert({ name: `Topic ${name}`, department_id: departmentId, public: true, active: true, sort_order: 5 }).returning('id')
    topics.push(insertedId(row))
    // In each department a manager, an agent and a viewer; and one agent who cannot sign in.
    for (const [role, hash] of [['manager', 'set'], ['agent', 'set'], ['view', 'set'], ['agent', null]] as const) {
      const email = `${role}${hash === null ? '-no-password' : ''}@${name}.test`
      const [agentRow] = await app.db('agents').insert({ name: email, email, password_hash: hash, is_admin: false, active: true, created_at: 0 }).returning('id')
      await app.db('agent_departments').insert({ agent_id: insertedId(agentRow), department_id: departmentId, role })
    }
  }
  // Plans: the first topic has one of its own, the second department one for its topics.
  const [topicPlan, departmentPlan] = await Promise.all(['Topic plan', 'Department plan'].map(async (name, i) => {
    const [row] = await app.db('sla_plans').insert({ name, first_response_hours: i + 1, resolution_hours: 24, schedule_id: null, created_at: 0 }).returning('id')
    return insertedId(row)
  }))
  await app.db('help_topics').where({ id: topics[0] }).update({ sla_plan_id: topicPlan })
  await app.db('departments').where({ id: departments.managers }).update({ sla_plan_id: departmentPlan })
  await openConnections(app, 10)
  const statements: string[] = []
  app.db.on('query', (query: { sql: string }) => statements.push(query.sql))
  app.db.on('query-response', (_rows: unknown, query: { sql: string }) => statements.push(`answered: ${query.sql}`))
  const results = await openTogether(app, Array.from({ length: 9 }, (_, i) => asked(i, { helpTopicId: topics[i % 3]! })))
  t.same(results.map((r) => r.status), results.map(() => 'fulfilled'))
  const laterBatch = statements.slice(statements.findIndex((sql) => /^commit\b/i.test(sql.trim())))
  const sent = laterBatch.filter((sql) => !sql.startsWith('answered: '))
  const readsSettings = (sql: string): boolean => sql.includes('from `settings`') || sql.includes('from "settings"')
  t.equal(sent.filter((sql) => sql.includes('agent_departments')).length, 1, 'the batch after the first reads every department’s audience in one statement')
  t.equal(sent.filter(readsSettings).length, 1, 'and whether each notice is on in one more')
  t.ok(laterBatch.findIndex(readsSettings) < laterBatch.findIndex((sql) => sql.startsWith('answered: ') && sql.includes('agent_departments')), 'sent before the audience is answered')
  t.equal(sent.filter((sql) => sql.includes('sla_plans')).length, 1, 'and the plans of every topic and department in one more')
  const planOf = new Map((await app.db('tickets').select('help_topic_id', 'sla_plan_id')).map((row) => [row.help_topic_id, row.sla_plan_id]))
  t.same(topics.map((topic) => planOf.get(topic)), [topicPlan, departmentPlan, null], 'the topic’s own plan, else its department’s, else none')

  const told = (await listOutbox(app.db, {})).filter((m) => m.template === 'new_ticket')
  const to = (domain: string): string[] => [...new Set(told.filter((m) => m.to_address.endsWith(`@${domain}.test`)).map((m) => m.to_address))].sort()
  t.same(to('agents'), ['agent@agents.test', 'manager@agents.test'], 'a department telling its agents tells agents and managers, never viewers or who cannot sign in')
  t.same(to('managers'), ['manager@managers.test'], 'one telling its managers tells them alone')
  t.same(to('nobody'), [], 'and one telling nobody tells nobody')
  t.equal(told.filter((m) => m.to_address === 'agent@agents.test').length, 3, 'each of its three tickets once')
})

t.test('in a batch, a topic not offered fails only its own opening, and the same form sent twice opens one ticket', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const [hiddenRow] = await app.db('help_topics').insert({ name: 'Internal', department_id: 1, public: false, active: true, sort_order: 9 }).returning('id')
  const hidden = insertedId(hiddenRow)
  const form = { submissionId: 'AAAAAAAAAAAAAAAAAAAAAA' }
  const results = await openTogether(app, [
    asked(1),
    asked(2, { helpTopicId: hidden, fromPortal: true }),
    asked(3, form),
    asked(3, form),
    asked(4, { helpTopicId: 999_999 })
  ])
  t.equal(results[0]!.status, 'fulfilled')
  for (const refused of [results[1]!, results[4]!]) {
    t.ok(refused.status === 'rejected' && isTesseraError(refused.reason, 'TESSERA_INVALID_INPUT'), 'a topic the portal does not offer, or none, is refused')
  }
  const [first, again] = [results[2]!, results[3]!].map((r) => (r as PromiseFulfilledResult<OpenedTicket>).value)
  t.equal(again!.ticket.number, first!.ticket.number, 'the second send names the first one’s ticket')
  t.equal(again!.replayed, true)
  t.not(again!.accessToken, first!.accessToken, 'with a fresh link for that browser')
  t.equal((await app.db('tickets')).length, 2, 'two tickets in all')
  t.equal((await listOutbox(app.db, {})).filter((m) => m.template === 'ticket_received').length, 2, 'and one confirmation each')
})

t.test('an opening that fails in the database fails alone: the rest of its batch is opened after all', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await refuseSubject(app, 'Boom')
  const results = await openTogether(app, [asked(1), asked(2), asked(3, { subject: 'Boom' }), asked(4), asked(5)])
  t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
  t.same((await app.db('tickets').orderBy('subject').pluck('subject')), ['Printer 1 jams', 'Printer 2 jams', 'Printer 4 jams', 'Printer 5 jams'])
  t.equal((await app.db('events').where({ type: 'created' })).length, 4, 'nothing of the failed one is left')
  t.equal((await listOutbox(app.db, {})).length, 4)
})

t.test('a batch reads its requesters before its transaction: one another instance adds meanwhile fails the batch, whose openings are then opened one by one', async (t) => {
  const apps = await sharedApps(t, 2, {}, { startWorkers: false })
  const clashes: string[] = []
  for (const app of apps) {
    app.db.on('query-error', (err: unknown, query: { sql: string }) => { if (isUniqueViolation(err)) clashes.push(query.sql) })
  }
  // Both instances take a newcomer's two tickets at once, until one of them found the
  // requester missing and the other had added them by the time it wrote.
  let rounds = 0
  while (!clashes.some((sql) => /^insert into [`"]requesters[`"]/.test(sql)) && rounds < 50) {
    const email = `newcomer-${rounds}@example.com`
    const results = await Promise.allSettled(apps.flatMap((app, i) => [
      app.lifecycle.openTicket(asked(rounds, { email, subject: `Round ${rounds}, instance ${i}` })),
      app.lifecycle.openTicket(asked(rounds, { email, subject: `Round ${rounds}, instance ${i}, again` }))
    ]))
    t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'], `round ${rounds}: every ticket is opened`)
    rounds++
  }
  t.ok(clashes.some((sql) => /^insert into [`"]requesters[`"]/.test(sql)), `the race happened (in ${rounds} rounds)`)
  const db = apps[0]!.db
  const requesters: Array<{ email: string, n: number | string }> = await db('requesters').where('email', 'like', 'newcomer-%').groupBy('email').select('email').count({ n: '*' })
  t.equal(requesters.length, rounds, 'one requester for each newcomer')
  t.ok(requesters.every((row) => Number(row.n) === 1), 'and only one')
  t.equal((await db('tickets').where('subject', 'like', 'Round %')).length, 4 * rounds, 'four tickets each round')
  t.equal((await db('events').where({ type: 'created' })).length, 4 * rounds, 'each created once')
})

/** A trigger that fails the insert of a ticket with this subject, as a database error would. */
async function refuseSubject (app: FastifyInstance, subject: string): Promise<void> {
  switch (dialectOfDb(app.db)) {
    case 'sqlite':
      await app.db.raw(`create trigger refuse_subject before insert on tickets when new.subject = '${subject}' begin select raise(abort, 'refused'); end`)
      return
    case 'postgres':
      await app.db.raw(`create function refuse_subject() returns trigger language plpgsql as $$ begin if new.subject = '${subject}' then raise exception 'refused'; end if; return new; end $$`)
      await app.db.raw('create trigger refuse_subject before insert on tickets for each row execute function refuse_subject()')
      return
    case 'mysql':
      await app.db.raw(`create trigger refuse_subject before insert on tickets for each row begin if new.subject = '${subject}' then signal sqlstate '45000' set message_text = 'refused'; end if; end`)
  }
}

t.test('a batch routed to a team goes round its members in order, one assignment event and one notice each, and fewest-open counts the batch', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const members = [11, 12, 13]
  for (const id of members) {
    await app.db('agents').insert({ id, name: `Member ${id}`, email: `m${id}@desk.test`, password_hash: 'set', is_admin: false, active: true, created_at: 0 })
    await app.db('agent_departments').insert({ agent_id: id, department_id: 1, role: 'agent' })
  }
  const [teamRow] = await app.db('teams').insert({ name: 'Printers', routing: 'round_robin' }).returning('id')
  const team = insertedId(teamRow)
  for (const id of members) await app.db('team_members').insert({ team_id: team, agent_id: id })
  await app.db('help_topics').where({ id: 1 }).update({ default_team_id: team })
  const statements: string[] = []
  app.db.on('query', (query: { sql: string }) => statements.push(query.sql))
  const log = logStatements(app)

  const first = await openTogether(app, Array.from({ length: 13 }, (_, i) => asked(i)))
  const opened = first.map((r) => (r as PromiseFulfilledResult<OpenedTicket>).value)
  t.same(opened.map((o) => o.ticket.assignee_id), Array.from({ length: 13 }, (_, i) => members[i % 3]), 'one alone, then twelve together: each member in turn')
  t.ok(statements.length < 80, `13 routed tickets cost ${statements.length} statements`)
  // The team, its members and whom to tell are read beside the transaction; in it, the
  // team's turns are taken between the requesters and the tickets. MySQL reads the turn
  // back, and the ids.
  const { waits, reads, listing } = log.lastTransaction()
  t.same(reads, dialectOfDb(app.db) === 'mysql' ? ['select `rr_cursor` from `teams` where `id` = ? limit ?'] : [], 'the transaction reads nothing else')
  t.equal(waits, dialectOfDb(app.db) === 'mysql' ? 9 : 5, `for BEGIN; for new requesters and the routing read beside; for the team's turns; for the tickets; for their rows and notices; then COMMIT:\n${listing}`)
  const rows = await app.db('tickets').whereIn('id', opened.map((o) => o.ticket.id)).orderBy('id').select('assignee_id', 'team_id')
  t.same(rows.map((row) => [row.assignee_id, row.team_id]), opened.map((o) => [o.ticket.assignee_id, team]), 'stored as answered')
  const assigned = await app.db('events').where({ type: 'assigned' }).orderBy('id')
  t.equal(assigned.length, 13, 'one assignment event each')
  t.match(JSON.parse(assigned[5].after_state as string), { rule: 'Printers', strategy: 'round_robin' }, 'naming the rule')
  const notices = (await listOutbox(app.db, {})).filter((m) => m.template === 'ticket_assigned')
  t.same(notices.map((m) => m.to_address).sort(), opened.map((o) => `m${o.ticket.assignee_id!}@desk.test`).sort(), 'each chosen member is told, and nobody else')
  const byAgent: Array<{ value_id: number, created: number | string, backlog: number | string }> = await app.db('report_daily').where({ dimension: 'agent' })
    .select('value_id').sum({ created: 'created', backlog: 'backlog' }).groupBy('value_id')
  t.same(Object.fromEntries(byAgent.map((row) => [Number(row.value_id), [Number(row.created), Number(row.backlog)]])), { 11: [5, 5], 12: [4, 4], 13: [4, 4] }, 'the counters place each ticket with its member, and none is left unassigned')

  // Fewest open: Member 11 closes four; the next batch fills the gap first.
  await app.db('teams').where({ id: team }).update({ routing: 'fewest_open' })
  await app.db('tickets').whereIn('id', opened.filter((o) => o.ticket.assignee_id === 11).slice(0, 4).map((o) => o.ticket.id)).update({ status: 'closed' })
  const next = (await openTogether(app, Array.from({ length: 6 }, (_, i) => asked(20 + i)))).map((r) => (r as PromiseFulfilledResult<OpenedTicket>).value)
  const counts = new Map<number, number>()
  for (const o of next) counts.set(o.ticket.assignee_id!, (counts.get(o.ticket.assignee_id!) ?? 0) + 1)
  t.same(Object.fromEntries(counts), { 11: 4, 12: 1, 13: 1 }, 'Member 11 (one open) gets four of six, then all three stand at five')
})

t.test('a batch routed into two departments asks for both departments’ members at once, and each ticket goes to a member of its own', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const [billingRow] = await app.db('departments').insert({ name: 'Billing', created_at: 0 }).returning('id')
  const billing = insertedId(billingRow)
  const [teamRow] = await app.db('teams').insert({ name: 'Front desk', routing: 'round_robin' }).returning('id')
  const team = insertedId(teamRow)
  const [topicRow] = await app.db('help_topics').insert({ name: 'Invoices', department_id: billing, public: true, active: true, sort_order: 5 }).returning('id')
  const invoices = insertedId(topicRow)
  await app.db('help_topics').whereIn('id', [1, invoices]).update({ default_team_id: team })
  // Member 21 works in Support, 22 in Billing: each department's tickets have one member to go to.
  for (const [id, departmentId] of [[21, 1], [22, billing]] as const) {
    await app.db('agents').insert({ id, name: `Member ${id}`, email: `m${id}@desk.test`, password_hash: 'set', is_admin: false, active: true, created_at: 0 })
    await app.db('agent_departments').insert({ agent_id: id, department_id: departmentId, role: 'agent' })
    await app.db('team_members').insert({ team_id: team, agent_id: id })
  }
  // Asked when the code runs the query, before the pool lends it a connection: the reads
  // beside a batch can outnumber SQLite's three readers, and one waiting for a connection
  // has still been asked for.
  const order: string[] = []
  const client = app.db.client as { runner: (builder: { _single?: { table?: unknown } }) => unknown }
  const runner = client.runner.bind(client)
  client.runner = (builder) => {
    if (String(builder._single?.table ?? '').startsWith('team_members')) order.push('asked')
    return runner(builder)
  }
  app.db.on('query-response', (_rows: unknown, query: { sql: string }) => { if (query.sql.includes('team_members')) order.push('answered') })
  const results = await openTogether(app, Array.from({ length: 7 }, (_, i) => asked(i, { helpTopicId: i % 2 === 0 ? 1 : invoices })))
  const opened = results.map((r) => (r as PromiseFulfilledResult<OpenedTicket>).value)
  t.same(opened.map((o) => o.ticket.assignee_id), opened.map((o) => o.ticket.department_id === billing ? 22 : 21), 'each ticket to the member of its department')
  t.same(order.slice(-4), ['asked', 'asked', 'answered', 'answered'], 'the batch after the first asks for both departments’ members before either answers')
})
