import t from 'tap'
import { testApp, testClock } from '../helpers/app.js'
import { count, day, resolvedTicket, saveAutomation, status } from '../helpers/automation.js'
import { asRequester, ticketRow } from '../helpers/actors.js'
import { seedDesk, signIn } from '../helpers/fixtures.js'

// Several app instances, sign-ins and many tickets: minutes on a busy shared machine.
t.setTimeout(600_000)

t.test('a resolved ticket nobody answers closes itself after the days set, once, with its event and the closed notice', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const quiet = await resolvedTicket(app, desk)
  const answered = await resolvedTicket(app, desk)

  clock.advance(7 * day - 60_000)
  t.same(await app.scheduler.runOnce(), { pending_reminder: 0, auto_resolve: 0, auto_close: 0, sla: 0, survey: 0 }, 'nothing is due a minute early (7 days by default)')
  const ticket = await ticketRow(app, answered)
  await app.lifecycle.addClientReply(ticket, asRequester(ticket), { body: 'No, it still jams.' })

  clock.advance(60_000)
  t.equal((await app.scheduler.runOnce()).auto_close, 1)
  t.equal(await status(app, quiet), 'closed')
  t.equal(await status(app, answered), 'open', 'the client’s reply reopened the other one, which stays open')
  const event = await app.db('events').where({ ticket_id: quiet, type: 'status_changed', actor_kind: 'system' }).first()
  t.same(JSON.parse(event.after_state as string), { status: 'closed' }, 'closed by Tessera, as an event')
  t.equal(await count(app, 'outbox', { ticket_id: quiet, template: 'ticket_closed' }), 1, 'the client gets the closed notice')

  const before = { events: await count(app, 'events', {}), outbox: await count(app, 'outbox', {}) }
  clock.advance(day)
  t.equal((await app.scheduler.runOnce()).auto_close, 0, 'run again, there is nothing left to do')
  t.same({ events: await count(app, 'events', {}), outbox: await count(app, 'outbox', {}) }, before, 'and nothing more is written')

  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.get(`/staff/tickets/${(await ticketRow(app, quiet)).number}`)
  t.match(page.text, /Tessera changed the status from resolved to closed/, 'the ticket’s history shows who closed it')
})

t.test('the days come from the settings page, where 0 turns auto-close off and bad values get 422 beside their field', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.get('/staff/admin/settings')
  t.equal(page.$('#settings-autoCloseDays').attr('value'), '7', 'seven days until saved')
  t.equal(page.$('#settings-reminderDays').attr('value'), '0', 'no reminder until saved')

  const bad = await saveAutomation(app, desk, { reminderDays: '0', autoResolveDays: '3' })
  t.equal(bad.status, 422)
  t.match(bad.error('autoResolveDays'), 'set a reminder too')
  const outOfRange = await saveAutomation(app, desk, { autoCloseDays: '400', reminderDays: 'soon' })
  t.equal(outOfRange.status, 422)
  t.match(outOfRange.error('autoCloseDays'), '0 to 365')
  t.match(outOfRange.error('reminderDays'), '0 to 365')

  t.match((await saveAutomation(app, desk, { autoCloseDays: '2' })).text, 'Settings saved.')
  const id = await resolvedTicket(app, desk)
  clock.advance(2 * day)
  await app.scheduler.runOnce()
  t.equal(await status(app, id), 'closed', 'closed after two days')

  await saveAutomation(app, desk, { autoCloseDays: '0' })
  const kept = await resolvedTicket(app, desk)
  clock.advance(400 * day)
  await app.scheduler.runOnce()
  t.equal(await status(app, kept), 'resolved', 'with 0 it stays resolved')
})

t.test('a ticket whose worker crashed is left alone while its lease lasts and picked up after it expires', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const id = await resolvedTicket(app, desk)
  clock.advance(7 * day)
  await app.db('job_leases').insert({ job: 'auto_close', item_id: id, owner: 'an-instance-that-died', lease_until: clock.now() + 60_000 })
  t.equal((await app.scheduler.runOnce()).auto_close, 0, 'held by a live lease')
  t.equal(await status(app, id), 'resolved')
  clock.advance(60_001)
  t.equal((await app.scheduler.runOnce()).auto_close, 1, 'taken over once the lease expired')
  t.equal(await status(app, id), 'closed')
  t.equal(await count(app, 'outbox', { ticket_id: id, template: 'ticket_closed' }), 1)
})
