import t from 'tap'
import { testApp, testClock } from '../helpers/app.js'
import { asAgent, asRequester, ticketRow } from '../helpers/actors.js'
import { openTicket, seedDesk, signIn } from '../helpers/fixtures.js'
import { Visitor } from '../helpers/visitor.js'

const day = 24 * 60 * 60_000

t.test('staff read "Pending" where the client reads "Waiting for you"', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const opened = await openTicket(app, desk.topics.broken, 'Toner is low')
  await app.lifecycle.setPending(await ticketRow(app, opened.id), await asAgent(app, desk.agents.bob.id))

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const queue = await bob.get('/staff/queues/pending')
  t.match(queue.$('tr:contains("Toner is low")').text(), 'Pending')
  t.notMatch(queue.text, 'Waiting for you', 'not in the rows, the filter or the bulk menu')
  const page = await bob.get(`/staff/tickets/${opened.number}`)
  t.match(page.$('dt:contains("Status") + dd').text(), 'Pending')

  const client = await new Visitor(app).get(`/tickets/${opened.number}/access/${opened.token}`)
  t.match(client.$('dt:contains("Status") + dd').text(), 'Waiting for you')
})

t.test('a follow-up names the ticket it follows in its history', async (t) => {
  const clock = testClock()
  const app = await testApp(t, { REOPEN_WINDOW_DAYS: '7' }, { now: clock.now })
  const desk = await seedDesk(app)
  const first = await openTicket(app, desk.topics.broken, 'Scanner offline')
  await app.lifecycle.closeTicket(await ticketRow(app, first.id), await asAgent(app, desk.agents.bob.id))
  clock.advance(8 * day)
  const { followUp } = await app.lifecycle.addClientReply(await ticketRow(app, first.id), asRequester(await ticketRow(app, first.id)), { body: 'Offline again.' })
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const page = await bob.get(`/staff/tickets/${followUp!.ticket.number}`)
  t.match(page.text, `opened the ticket as a follow-up to #${first.number}`)
})
