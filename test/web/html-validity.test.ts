import t from 'tap'
import { findTicketView, insertEntry } from '../../src/data/tickets.js'
import { testApp } from '../helpers/app.js'
import { assertValidDocuments } from '../helpers/html-validator.js'
import { Visitor, type Page } from '../helpers/visitor.js'
import { programs, skipWithout } from '../helpers/programs.js'
import { system, ticketRow } from '../helpers/actors.js'

const skip = skipWithout(programs.java)

const form = 'application/x-www-form-urlencoded'

t.test('every portal page, in each of its states, is valid HTML', { skip }, async (t) => {
  const app = await testApp(t)
  const visitor = new Visitor(app)
  const pages: Record<string, Page> = {}
  /** Keeps a page for the checker after making sure it is the state we meant to reach. */
  const keep = (name: string, page: Page, status: number, shows: string): void => {
    t.equal(page.status, status, `${name}: status ${status}`)
    t.match(page.headers['content-type'], /^text\/html/, `${name}: served as HTML`)
    t.match(page.text, shows, `${name}: shows “${shows}”`)
    pages[name] = page
  }

  keep('home', await visitor.get('/'), 200, 'How can we help?')

  const newForm = await visitor.get('/tickets/new')
  keep('new ticket form', newForm, 200, 'Open a ticket')
  const preselected = await visitor.get('/tickets/new?topic=2')
  t.equal(preselected.$('#ticket-topic option[selected]').text(), 'Something is broken')
  keep('new ticket form with a topic chosen', preselected, 200, 'Open a ticket')

  // Every field wrong at once, the trap field filled in too: each error is rendered.
  const invalid = await visitor.submit(newForm, 'form[action="/tickets"]', {
    topic: '', name: '', email: 'not-an-address', subject: ' ', message: '', website: 'http://spam.example'
  })
  t.equal(invalid.$('.field .error').length, 6, 'an error beside every field')
  keep('new ticket form with errors', invalid, 422, 'There is a problem')

  const forged = await visitor.submit(newForm, 'form[action="/tickets"]', { _csrf: 'forged', subject: 'Kept' })
  keep('new ticket form refused for its CSRF token', forged, 403, 'This form had expired')

  const created = await visitor.submit(newForm, 'form[action="/tickets"]', {
    topic: '2',
    name: 'Grace Hopper',
    email: 'grace@example.com',
    subject: 'Printer “jams” <on> page two & three',
    message: 'Every time I print two pages,\nthe second one jams.\n\n<b>Really</b>.'
  })
  keep('confirmation with the private link', created, 200, 'received')
  t.equal(created.$('.private-link a').length, 1)
  const number = /Ticket (\d+) received/.exec(created.text)?.[1] ?? ''
  const createdAgain = await visitor.get(`/tickets/${number}/created`)
  t.equal(createdAgain.$('.private-link').length, 0)
  keep('confirmation seen again, without the link', createdAgain, 200, 'has been sent to your e-mail address')

  const ticketPath = `/tickets/${number}`
  const replyForm = `form[action="${ticketPath}/replies"]`
  const open = await visitor.get(ticketPath)
  keep('ticket, open', open, 200, 'Every time I print two pages')
  t.equal(open.$('[aria-current=step]').text(), 'Submitted')

  const replyErrors = await visitor.submit(open, replyForm, { message: '   ' })
  keep('ticket, reply with errors', replyErrors, 422, 'Enter your message.')

  const replied = await visitor.submit(open, replyForm, { message: 'It also happens with one page.' })
  keep('ticket, after a reply (flash shown)', replied, 200, 'Your reply has been sent.')

  const ticket = await findTicketView(app.db, number)
  if (!ticket) throw new Error(`ticket ${number} not in the database`)
  const now = Date.now()
  await app.db('agents').insert({ name: 'Ada from Support', email: 'ada@support.example', created_at: now })
  const agent = await app.db('agents').where({ email: 'ada@support.example' }).first('id') as { id: number }
  // Written straight to the thread: the page is under test here, not the agent's permissions.
  await insertEntry(app.db, { ticket_id: ticket.id, kind: 'response', agent_id: agent.id, requester_id: null, body: 'Please try\nanother tray <b>first</b>.', created_at: now })
  keep('ticket, with a support response', await visitor.get(ticketPath), 200, 'Ada from Support')

  await app.lifecycle.resolveTicket(await ticketRow(app, ticket.id), system)
  const resolved = await visitor.get(ticketPath)
  keep('ticket, resolved (with the “solved” form)', resolved, 200, 'Yes, this solved my problem')

  const closed = await visitor.submit(resolved, `form[action="${ticketPath}/closure"]`)
  keep('ticket, closed', closed, 200, 'This ticket is closed.')
  t.equal(closed.$('[aria-current=step]').text(), 'Closed')

  const check = await visitor.get('/check')
  keep('check form', check, 200, 'Check a ticket')
  keep('check form with errors', await visitor.submit(check, 'form[action="/check"]', { email: 'nope', number: 'abc' }), 422, 'There is a problem')
  const sent = await visitor.submit(check, 'form[action="/check"]', { email: 'grace@example.com', number })
  keep('check form, link sent', sent, 200, 'we have sent a private link')

  keep('404 page', await visitor.get('/no/such/page'), 404, 'That page could not be found.')
  keep('404 for a ticket without access', await new Visitor(app).get(ticketPath), 404, 'That ticket could not be found.')
  keep('invalid private link', await visitor.get(`${ticketPath}/access/not-a-token`), 404, 'This link is not valid.')
  keep('413 page', await visitor.post('/check', 'email=' + 'a'.repeat(1100 * 1024), { headers: { 'content-type': form } }), 413, 'too large')

  // The htmx fragment of the ticket page (HX-Request) is not a document: not checked here.
  await assertValidDocuments(t, Object.fromEntries(Object.entries(pages).map(([name, page]) => [name, page.html])))
})
