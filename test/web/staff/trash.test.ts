import t from 'tap'
import { listOutbox } from '../../../src/data/outbox.js'
import { findTicketByNumber } from '../../../src/data/tickets.js'
import { sharedApps, testApp, testClock } from '../../helpers/app.js'
import { asAgent, ticketRow } from '../../helpers/actors.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { Visitor } from '../../helpers/visitor.js'

const day = 86400_000

t.test('a manager deletes a ticket after a confirmation page; it leaves queues and the portal, and comes back from the trash', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { now: clock.now, startWorkers: false })
  const desk = await seedDesk(app)
  const invoice = await openTicket(app, desk.topics.billing, 'Invoice is wrong')
  const other = await openTicket(app, desk.topics.billing, 'Invoice is late')

  const { visitor: ned } = await signIn(app, desk.agents.ned.email)
  const nedsView = await ned.get(`/staff/tickets/${invoice.number}`)
  t.equal(nedsView.$('a:contains("Delete ticket")').length, 0, 'a plain agent is not offered deletion')
  t.equal((await ned.get(`/staff/tickets/${invoice.number}/deletion`)).status, 403)

  const { visitor: mel, page: melsQueue } = await signIn(app, desk.agents.mel.email)
  t.match(melsQueue.$('.queues a:contains("All open") .count').text(), '2')
  const ticketPage = await mel.get(`/staff/tickets/${invoice.number}`)
  const confirm = await mel.get(ticketPage.$('a:contains("Delete ticket")').attr('href')!)
  t.equal(confirm.status, 200, 'the delete button leads to a page, no script needed')
  t.equal(confirm.$('h1').text(), `Delete ticket ${invoice.number}?`)
  t.match(confirm.text, 'It can be restored for 30 days')
  t.equal((await findTicketByNumber(app.db, invoice.number))!.deleted_at, null, 'looking at the question deletes nothing')

  const afterDelete = await mel.submit(confirm, `form[action="/staff/tickets/${invoice.number}/deletion"]`)
  t.equal(afterDelete.url, '/staff/queues/open')
  t.match(afterDelete.text, `Ticket ${invoice.number} was moved to the trash. A manager can restore it for 30 days.`)
  t.notMatch(afterDelete.$('tbody').text(), invoice.number, 'the queue no longer lists it')
  t.match(afterDelete.$('tbody').text(), other.number)
  // Mel's counts are cached for a few seconds; Ada signs in afresh.
  const { page: adasQueue } = await signIn(app, desk.agents.ada.email)
  t.equal(adasQueue.$('.queues a:contains("All open") .count').text(), '1', 'nor counts it')
  const stored = (await findTicketByNumber(app.db, invoice.number))!
  t.equal(stored.deleted_at, clock.now())
  t.equal(stored.deleted_by, desk.agents.mel.id)
  t.equal((await mel.get(`/staff/tickets/${invoice.number}`)).status, 404, 'its staff page is gone')
  t.equal((await ned.get('/staff/queues/open')).$(`tbody td.number:contains("${invoice.number}")`).length, 0)

  const grace = new Visitor(app)
  const link = await grace.get(`/tickets/${invoice.number}/access/${invoice.token}`)
  t.equal(link.status, 410)
  t.match(link.text, 'This ticket was deleted.', 'the private link says what happened')
  const check = await grace.get('/check')
  await grace.submit(check, 'form[action="/check"]', { email: 'grace@example.com', number: invoice.number })
  t.notOk((await listOutbox(app.db, { ticketId: invoice.id })).some((m) => m.template === 'access_link'), 'no fresh link is sent for a deleted ticket')

  const nedsTrash = await ned.get('/staff/trash')
  t.equal(nedsTrash.$('tbody tr').length, 0, 'only managers see a department\'s trash')
  t.equal(nedsTrash.$('nav a:contains("Trash")').length, 0)
  const refused = await ned.post(`/staff/tickets/${invoice.number}/restoration`,
    new URLSearchParams({ _csrf: nedsTrash.$('input[name=_csrf]').attr('value')! }).toString(),
    { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.match(refused.text, 'does not allow that')
  t.not((await findTicketByNumber(app.db, invoice.number))!.deleted_at, null, 'and it stays in the trash')

  clock.advance(2 * day)
  const trash = await mel.get(afterDelete.$('nav a:contains("Trash")').attr('href')!)
  const row = trash.$(`tbody tr:contains("${invoice.number}")`)
  t.equal(row.length, 1, 'the trash lists it')
  t.match(row.text(), 'Mel Manager', 'with who deleted it')
  t.match(row.text(), new Date(stored.deleted_at!).toISOString().slice(0, 16).replace('T', ' '), 'when')
  t.match(row.text(), new Date(stored.deleted_at! + 30 * day).toISOString().slice(0, 10), 'and when it goes for good')
  const restored = await mel.submit(trash, `form[action="/staff/tickets/${invoice.number}/restoration"]`)
  t.equal(restored.url, `/staff/tickets/${invoice.number}`)
  t.match(restored.text, `Ticket ${invoice.number} was restored.`)
  t.match(restored.text, 'Mel Manager moved the ticket to the trash')
  t.match(restored.text, 'Mel Manager restored the ticket from the trash')
  t.same((await app.db('events').where({ ticket_id: invoice.id }).orderBy('id').select('type')).map((e: { type: string }) => e.type), ['created', 'deleted', 'restored'])
  t.equal((await grace.get(`/tickets/${invoice.number}/access/${invoice.token}`)).status, 200, 'the requester\'s link works again')
  t.match((await mel.get('/staff/queues/open')).$('tbody').text(), invoice.number, 'and it is back in the queue')

  await assertValidDocuments(t, {
    'deletion confirmation': confirm.html,
    'trash with a ticket': trash.html,
    'trash, empty': nedsTrash.html,
    'portal link to a deleted ticket': link.html
  })
})

t.test('after 30 days in the trash a ticket can no longer be restored and the purge job deletes it for good', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { now: clock.now, startWorkers: false })
  const desk = await seedDesk(app)
  const mel = await asAgent(app, desk.agents.mel.id)
  const doomed = await openTicket(app, desk.topics.billing, 'Spam')
  const kept = await openTicket(app, desk.topics.billing, 'Kept')
  const follower = await app.lifecycle.openTicket({ name: 'Grace Hopper', email: 'grace@example.com', subject: 'Follows spam', message: 'x', helpTopicId: desk.topics.billing })
  await app.db('tickets').where({ id: follower.ticket.id }).update({ follows_ticket_id: doomed.id })
  await app.lifecycle.addResponse(await ticketRow(app, doomed.id), mel, { body: 'Noted.' })
  const beforeDeletion = await ticketRow(app, doomed.id)
  await app.lifecycle.deleteTicket(beforeDeletion, mel)
  await app.lifecycle.deleteTicket(beforeDeletion, mel)
  t.equal((await app.db('events').where({ ticket_id: doomed.id, type: 'deleted' })).length, 1, 'deleting twice records it once')

  clock.advance(29 * day)
  t.equal(await app.trashPurge.runOnce(), 0, 'nothing is purged within 30 days')
  clock.advance(2 * day)
  const late = await app.lifecycle.restoreTicket(await ticketRow(app, doomed.id), mel).then(() => null, (err: Error) => err.message)
  t.equal(late, `Ticket ${doomed.number} was deleted more than 30 days ago and can no longer be restored.`)

  t.equal(await app.trashPurge.runOnce(), 1)
  t.equal(await findTicketByNumber(app.db, doomed.number), undefined, 'the ticket is gone')
  for (const table of ['thread_entries', 'events', 'ticket_access_tokens']) {
    t.equal((await app.db(table).where({ ticket_id: doomed.id })).length, 0, `with its ${table}`)
  }
  t.ok(await findTicketByNumber(app.db, kept.number), 'other tickets stay')
  t.equal((await findTicketByNumber(app.db, follower.ticket.number))!.follows_ticket_id, null, 'a ticket that followed it stays, without the link')
  t.equal(await app.trashPurge.runOnce(), 0, 'a second run finds nothing')
})

t.test('two instances purging the same trash at once delete each ticket exactly once', async (t) => {
  const clock = testClock()
  const [one, two] = await sharedApps(t, 2, {}, { now: clock.now, startWorkers: false })
  const desk = await seedDesk(one!)
  const ids: number[] = []
  for (let i = 0; i < 120; i++) ids.push((await openTicket(one!, desk.topics.billing, `Spam ${i}`)).id)
  const ada = await asAgent(one!, desk.agents.ada.id)
  for (const id of ids) await one!.lifecycle.deleteTicket(await ticketRow(one!, id), ada)
  clock.advance(31 * day)
  const [a, b] = await Promise.all([one!.trashPurge.runOnce(), two!.trashPurge.runOnce()])
  t.equal(a + b, 120, `every ticket purged once (${a} + ${b})`)
  t.equal(Number((await one!.db('tickets').count({ n: '*' }))[0]!.n), 0)
})
