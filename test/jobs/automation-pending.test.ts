import t from 'tap'
import { readFileSync } from 'node:fs'
import { testApp, testClock } from '../helpers/app.js'
import { count, day, pendingTicket, saveAutomation, status } from '../helpers/automation.js'
import { asAgent, asRequester, ticketRow } from '../helpers/actors.js'
import { seedDesk } from '../helpers/fixtures.js'

// Several app instances, sign-ins and many tickets: minutes on a busy shared machine.
t.setTimeout(600_000)

t.test('a pending ticket reminds the client once, then resolves after the further days unless someone writes', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  t.match((await saveAutomation(app, desk, { reminderDays: '3', autoResolveDays: '4' })).text, 'Settings saved.')
  const silent = await pendingTicket(app, desk)
  const answering = await pendingTicket(app, desk)

  clock.advance(3 * day)
  t.same(await app.scheduler.runOnce(), { pending_reminder: 2, auto_resolve: 0, auto_close: 0, sla: 0, survey: 0 })
  t.same(await app.scheduler.runOnce(), { pending_reminder: 0, auto_resolve: 0, auto_close: 0, sla: 0, survey: 0 }, 'a second run reminds nobody again')
  t.equal(await count(app, 'outbox', { ticket_id: silent, template: 'pending_reminder' }), 1, 'one reminder')
  t.equal(await count(app, 'events', { ticket_id: silent, type: 'client_reminded' }), 1, 'recorded once')
  await app.outbox.runOnce()
  const row = await app.db('outbox').where({ ticket_id: silent, template: 'pending_reminder' }).first('id')
  const eml = readFileSync(`${app.config.dataDir}/mail/${row.id as number}.eml`, 'utf8')
  t.match(eml, /Subject: \[#\d+\] Waiting for your answer: Printer jams on page two/)
  t.match(eml, /waiting for your answer for 3 days/)
  t.match(eml, /\/tickets\//, 'with the private link')

  const ticket = await ticketRow(app, answering)
  await app.lifecycle.addClientReply(ticket, asRequester(ticket), { body: 'Here is the log you asked for.' })
  await app.lifecycle.setPending(await ticketRow(app, answering), await asAgent(app, desk.agents.bob.id))

  clock.advance(4 * day)
  t.same(await app.scheduler.runOnce(), { pending_reminder: 1, auto_resolve: 1, auto_close: 0, sla: 0, survey: 0 }, 'the silent one is resolved; the other, pending again since, gets its own reminder')
  t.equal(await status(app, silent), 'resolved')
  t.equal(await status(app, answering), 'pending')
  t.equal(await count(app, 'outbox', { ticket_id: silent, template: 'ticket_resolved' }), 1, 'the client is told it was resolved')
  t.same(await app.scheduler.runOnce(), { pending_reminder: 0, auto_resolve: 0, auto_close: 0, sla: 0, survey: 0 }, 'again: nothing more')

  clock.advance(7 * day)
  await app.scheduler.runOnce()
  t.equal(await status(app, silent), 'closed', 'and, a week later, closed')
})
