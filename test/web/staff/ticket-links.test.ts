import t from 'tap'
import { listEvents } from '../../../src/data/tickets.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'

t.test('an agent links two related tickets from the ticket page; both show it, both record it, one click unlinks', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const printer = await openTicket(app, desk.topics.broken, 'Printer jams on page two')
  const toner = await openTicket(app, desk.topics.broken, 'Toner streaks')
  const invoice = await openTicket(app, desk.topics.billing, 'Invoice is wrong')
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)

  let page = await bob.get(`/staff/tickets/${printer.number}`)
  page = await bob.submit(page, `form[action="/staff/tickets/${printer.number}/links"]`, { target: `#${toner.number}` })
  t.match(page.text, `Linked to ticket ${toner.number}.`)
  t.equal(page.$(`#linked-tickets a[href="/staff/tickets/${toner.number}"]`).length, 1, 'the ticket page shows the link')
  const other = await bob.get(`/staff/tickets/${toner.number}`)
  t.equal(other.$(`#linked-tickets a[href="/staff/tickets/${printer.number}"]`).length, 1, 'and so does the other ticket\'s page')
  t.match(page.$('#conversation').text(), `linked this ticket to #${toner.number}`)
  t.match(other.$('#conversation').text(), `linked this ticket to #${printer.number}`)

  const again = await bob.submit(page, `form[action="/staff/tickets/${printer.number}/links"]`, { target: toner.number })
  t.match(again.text, 'was linked already', 'linking twice is calm')
  t.equal((await listEvents(app.db, printer.id)).filter((e) => e.type === 'linked').length, 1, 'and records nothing more')

  // Bob cannot see Billing: the invoice ticket does not exist for him.
  const hidden = await bob.submit(page, `form[action="/staff/tickets/${printer.number}/links"]`, { target: invoice.number })
  t.match(hidden.text, `There is no ticket ${invoice.number} you can see.`)
  const self = await bob.submit(page, `form[action="/staff/tickets/${printer.number}/links"]`, { target: printer.number })
  t.match(self.text, 'cannot be linked to itself')
  const junk = await bob.submit(page, `form[action="/staff/tickets/${printer.number}/links"]`, { target: '<script>' })
  t.equal(junk.status, 200, 'junk is answered with a message, not an error')
  t.match(junk.text, 'There is no ticket <script> you can see.')
  t.equal(await app.db('ticket_links').count({ n: '*' }).first().then((r) => Number(r?.n)), 1)

  // Vic may only view Support: he sees the link but no link or unlink forms.
  const { visitor: vic } = await signIn(app, desk.agents.vic.email)
  const vicPage = await vic.get(`/staff/tickets/${printer.number}`)
  t.equal(vicPage.$(`#linked-tickets a[href="/staff/tickets/${toner.number}"]`).length, 1)
  t.equal(vicPage.$(`form[action="/staff/tickets/${printer.number}/links"]`).length, 0, 'a view-only role gets no link form')

  const unlinked = await bob.submit(page, `form[action="/staff/tickets/${printer.number}/links/${toner.number}/deletion"]`)
  t.match(unlinked.text, `Unlinked ticket ${toner.number}.`)
  t.equal(unlinked.$(`#linked-tickets a[href="/staff/tickets/${toner.number}"]`).length, 0)
  t.equal((await bob.get(`/staff/tickets/${toner.number}`)).$(`#linked-tickets a[href="/staff/tickets/${printer.number}"]`).length, 0)
  t.ok((await listEvents(app.db, toner.id)).some((e) => e.type === 'unlinked'), 'unlinking is an event on both tickets')
  t.ok((await listEvents(app.db, printer.id)).some((e) => e.type === 'unlinked'))

  await assertValidDocuments(t, { linked: page.html, viewOnly: vicPage.html })
})
