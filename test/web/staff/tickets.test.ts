import t from 'tap'
import { listOutbox } from '../../../src/data/outbox.js'
import { findTicketByNumber } from '../../../src/data/tickets.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor } from '../../helpers/visitor.js'
import { system, ticketRow } from '../../helpers/actors.js'

t.test('Bob finds a new ticket in his queue, answers it and resolves it; the client sees the answer, never the note', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const printerJam = await openTicket(app, desk.topics.broken)

  const { visitor: bob, page: queue } = await signIn(app, desk.agents.bob.email)
  t.match(queue.$('.queues a[aria-current=page]').text(), 'All open')
  const link = queue.$(`a:contains("${printerJam.number}")`).attr('href')!
  t.equal(link, `/staff/tickets/${printerJam.number}`, 'the queue links to the ticket')

  let ticket = await bob.get(link)
  t.equal(ticket.status, 200)
  t.match(ticket.text, 'The second page always jams.')

  ticket = await bob.submit(ticket, 'form.composer', { message: 'Please try the rear paper tray.' })
  // The plain form's default action is the reply; the note button has its own formaction.
  t.match(ticket.text, 'Reply sent to the requester.')

  const noteForm = ticket.$('form.composer')
  noteForm.attr('action', noteForm.find('button:contains("Add internal note")').attr('formaction')!)
  ticket = await bob.submit(ticket, 'form.composer', { message: 'Fuser was replaced last month, check warranty.', intent: 'note' })
  t.match(ticket.text, 'Internal note added.')
  t.equal(ticket.$('.entry.note').length, 1, 'the note is marked as internal')

  ticket = await bob.submit(ticket, `form[action="/staff/tickets/${printerJam.number}/resolution"]`)
  t.match(ticket.text, 'Status changed.')
  t.equal((await findTicketByNumber(app.db, printerJam.number))!.status, 'resolved')

  const client = new Visitor(app)
  const clientPage = await client.get(`/tickets/${printerJam.number}/access/${printerJam.token}`)
  t.match(clientPage.text, 'Please try the rear paper tray.', 'the reply reaches the client')
  t.notMatch(clientPage.text, 'Fuser was replaced', 'the internal note never does')
  t.equal(clientPage.$('[aria-current=step]').text(), 'Resolved')

  const mails = (await listOutbox(app.db, { ticketId: printerJam.id, toAddress: 'grace@example.com' })).map((m) => m.template)
  t.same(mails, ['ticket_received', 'agent_response', 'ticket_resolved'])
})

t.test('two agents on one ticket: the second reply is held back with its draft kept', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const printerJam = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  const bobsPage = await bob.get(`/staff/tickets/${printerJam.number}`)
  const adasPage = await ada.get(`/staff/tickets/${printerJam.number}`)
  t.match((await bob.get(`/staff/tickets/${printerJam.number}`)).$('#viewers').text(), 'Ada Lovelace', 'Bob sees that Ada has it open')

  await ada.submit(adasPage, 'form.composer', { message: 'Ada here: please restart the printer.' })
  const held = await bob.submit(bobsPage, 'form.composer', { message: 'Bob here: please send a photo.' })
  t.equal(held.status, 409)
  t.match(held.$('.composer [role=alert]').text(), 'Someone else wrote on this ticket')
  t.equal(held.$('#composer-message').text(), 'Bob here: please send a photo.', 'the draft is kept')
  t.match(held.text, 'Ada here: please restart the printer.', 'and Ada\'s reply is shown')
  const responses = await app.db('thread_entries').where({ ticket_id: printerJam.id, kind: 'response' })
  t.equal(responses.length, 1, 'only Ada\'s reply went out')

  const sent = await bob.submit(held, 'form.composer')
  t.match(sent.text, 'Reply sent to the requester.', 'having seen it, Bob can send')
})

t.test('queues filter and page with stable cursors', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  for (let i = 0; i < 55; i++) await openTicket(app, desk.topics.broken, `Support ticket ${i}`)
  await openTicket(app, desk.topics.billing, 'Invoice is wrong')
  const { visitor: ada, page } = await signIn(app, desk.agents.ada.email)
  t.equal(page.$('tbody tr').length, 50, 'a page holds 50 tickets')
  t.match(page.$('.queues a:contains("All open") .count').text(), '56')

  const filtered = await ada.submit(page, 'form.filters', { department: String(desk.departments.billing) })
  t.equal(filtered.url, `/staff/queues/open?department=${desk.departments.billing}&topic=&priority=&assignee=&team=&status=&sort=activity`)
  t.same(filtered.$('tbody tr td:nth-child(3)').map((_, td) => filtered.$(td).text()).get(), ['Invoice is wrong'])

  const next = page.$('a:contains("Next page")').attr('href')!
  await openTicket(app, desk.topics.broken, 'Arrives while paging')
  const second = await ada.get(next)
  t.equal(second.$('tbody tr').length, 6, 'the next page continues where the first ended, unaffected by the new ticket')
  const firstNumbers = new Set(page.$('tbody a[href^="/staff/tickets/"]').map((_, a) => page.$(a).text()).get())
  t.notOk(second.$('tbody tr td:nth-child(2) a').get().some((a) => firstNumbers.has(second.$(a).text())), 'no ticket shows twice')

  const fragment = await ada.get('/staff/queues/open', { headers: { 'hx-request': 'true', 'hx-target': 'queue-results' } })
  t.notMatch(fragment.html, '<html', 'htmx gets the table alone')
  t.equal(fragment.$('tbody tr').length, 50)
  t.equal(fragment.headers.vary, 'HX-Request')
})

t.test('bulk actions report refusals per ticket and do the rest', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const open = await openTicket(app, desk.topics.broken, 'Open one')
  const closed = await openTicket(app, desk.topics.broken, 'Closed one')
  await app.lifecycle.closeTicket(await ticketRow(app, closed.id), system)
  const { visitor: bob, page } = await signIn(app, desk.agents.bob.email)
  const result = await bob.submit(page, 'form.bulk', { action: 'claim', tickets: open.number })
  t.match(result.text, '1 of 1 tickets updated.')
  const form = new URLSearchParams([['_csrf', page.$('form.bulk input[name=_csrf]').attr('value')!], ['action', 'status'], ['status', 'resolved'], ['tickets', open.number], ['tickets', closed.number], ['back', '/staff/queues/open']])
  const mixed = await bob.post('/staff/bulk', form.toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.match(mixed.text, '1 of 2 tickets updated.')
  t.match(mixed.text, `${closed.number}: A closed ticket cannot be resolved.`)
  t.equal((await findTicketByNumber(app.db, open.number))!.status, 'resolved')
})

t.test('a reply that came by e-mail shows its trimmed text, with the whole e-mail one click away for agents only', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const printerJam = await openTicket(app, desk.topics.broken)
  const requesterId = (await findTicketByNumber(app.db, printerJam.number))!.requester_id
  await app.lifecycle.addClientReply(await ticketRow(app, printerJam.id), { kind: 'requester', requesterId }, {
    body: 'Still jamming.',
    mail: {
      messageId: '<reply-1@mail.example.com>',
      originalBody: 'Still jamming.\n\nOn Thu, Tessera wrote:\n> -- Reply above this line --'
    }
  })
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const page = await bob.get(`/staff/tickets/${printerJam.number}`)
  const entry = page.$('.entry:contains("Still jamming.")').last()
  t.match(entry.find('.tag').text(), 'By e-mail')
  t.match(entry.find('details .original').text(), 'On Thu, Tessera wrote:', 'the whole e-mail is kept for agents')
  const client = await new Visitor(app).get(`/tickets/${printerJam.number}/access/${printerJam.token}`)
  t.match(client.text, 'Still jamming.')
  t.notMatch(client.text, 'Tessera wrote:', 'the requester sees their message, not the quoted history')
})

t.test('the open queue refreshes itself without losing the rows the agent selected', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const first = await openTicket(app, desk.topics.broken, 'First')
  const second = await openTicket(app, desk.topics.broken, 'Second')
  const { visitor: bob, page } = await signIn(app, desk.agents.bob.email)
  const poller = page.$('[data-hx-trigger="every 30s"]')
  t.equal(poller.attr('data-hx-target'), '#queue-rows', 'the first page of a queue polls for itself')
  t.match(poller.attr('data-hx-include'), 'input[name=tickets]:checked', 'sending the checked rows along')

  // What htmx sends when Bob has ticked the first row: the poll URL plus that row.
  const refreshed = await bob.get(`${poller.attr('data-hx-get')!}?tickets=${first.number}`, { headers: { 'hx-request': 'true', 'hx-target': 'queue-rows' } })
  t.notMatch(refreshed.html, '<html', 'only the table comes back')
  t.equal(refreshed.$(`#select-${first.number}`).is('[checked]'), true, 'the ticked row stays ticked')
  t.equal(refreshed.$(`#select-${second.number}`).is('[checked]'), false)
})
