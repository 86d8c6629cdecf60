import t from 'tap'
import { asAgent, asRequester, ticketRow } from '../../helpers/actors.js'
import { testApp, testClock } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'

const form = 'form[action="/staff/preferences"]'

t.test('an away agent gets no notices until the day they are back', async (t) => {
  const clock = testClock(Date.UTC(2026, 10, 26, 9, 0))
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const page = await bob.submit(await bob.get('/staff/preferences'), form, { timeZone: 'Europe/Berlin', awayUntil: '2026-11-30' })
  t.match(page.text, 'Preferences saved.')
  t.equal(page.$('#preferences-awayUntil').attr('value'), '2026-11-30', 'the day he is back, as he typed it')
  t.equal(Number((await app.db('agents').where({ id: desk.agents.bob.id }).first('away_until')).away_until), Date.UTC(2026, 10, 29, 23, 0), 'midnight in his own zone')

  const newTicketsTo = async (): Promise<string[]> => (await app.db('outbox').where({ template: 'new_ticket' }).select('to_address')).map((r: { to_address: string }) => r.to_address)
  const first = await openTicket(app, desk.topics.broken, 'While Bob is away')
  t.same(await newTicketsTo(), [desk.agents.ada.email], 'Ada is told; Bob, away, is not')
  await app.db('tickets').where({ id: first.id }).update({ assignee_id: desk.agents.bob.id })
  const ticket = await app.db('tickets').where({ id: first.id }).first()
  await app.lifecycle.addClientReply(ticket, asRequester(ticket), { body: 'Any news?' })
  t.notOk(await app.db('outbox').where({ template: 'client_message' }).first(), 'nor when the requester of his ticket writes')
  const assignedTo = async (): Promise<string[]> => (await app.db('outbox').where({ template: 'ticket_assigned' }).select('to_address')).map((r: { to_address: string }) => r.to_address)
  const ada = await asAgent(app, desk.agents.ada.id)
  const assignToBob = async (subject: string): Promise<void> => {
    const opened = await openTicket(app, desk.topics.broken, subject)
    await app.lifecycle.assignTicket(await ticketRow(app, opened.id), ada, { agentId: desk.agents.bob.id, teamId: null })
  }
  await assignToBob('Assigned while Bob is away')
  t.same(await assignedTo(), [], 'nor when Ada gives him a ticket')

  clock.advance(4 * 24 * 60 * 60_000)
  await openTicket(app, desk.topics.broken, 'Bob is back')
  t.same((await newTicketsTo()).filter((to) => to === desk.agents.bob.email), [desk.agents.bob.email], 'back: told again')
  await assignToBob('Assigned when Bob is back')
  t.same(await assignedTo(), [desk.agents.bob.email], 'and told of the ticket Ada gives him')
})

t.test('rows per page sets how many tickets a queue page lists', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  for (let i = 0; i < 12; i++) await openTicket(app, desk.topics.broken, `Ticket ${i}`)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get('/staff/queues/open')).$('.queue-table tbody tr').length, 12, 'fifty by default: all twelve')
  await bob.submit(await bob.get('/staff/preferences'), form, { rowsPerPage: '10' })
  const first = await bob.get('/staff/queues/open')
  t.equal(first.$('.queue-table tbody tr').length, 10, 'ten, as chosen')
  const next = first.$('a:contains("Next page")').attr('href')
  t.ok(next, 'with a link to the rest')
  t.equal((await bob.get(next!)).$('.queue-table tbody tr').length, 2, 'which lists the other two')
})
