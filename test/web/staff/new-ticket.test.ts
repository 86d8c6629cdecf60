import t from 'tap'
import { findTicketByNumber } from '../../../src/data/tickets.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { mailEnv } from '../../helpers/mail.js'
import { smtpServer } from '../../helpers/smtp.js'

t.test('an agent opens a ticket for a caller: found in the directory, told by mail, the source on the ticket', async (t) => {
  const smtp = await smtpServer(t)
  const app = await testApp(t, { ...mailEnv, SMTP_URL: smtp.url }, { startWorkers: false })
  const desk = await seedDesk(app)
  await openTicket(app, desk.topics.broken, 'An older ticket of Grace')
  await app.outbox.runOnce()
  smtp.messages.length = 0

  const { visitor: bob, page: queue } = await signIn(app, desk.agents.bob.email)
  let page = await bob.get(queue.$('header a:contains("New ticket")').attr('href')!)
  t.equal(page.status, 200, 'the header leads to the new-ticket page')
  page = await bob.submit(page, 'form[role=search][action$="/staff/tickets/new"]', { find: 'grace@' })
  page = await bob.get(page.$('.found-requesters a:contains("Grace Hopper")').attr('href')!)
  t.equal(page.$('#new-ticket-email').val(), 'grace@example.com', 'the requester found fills the form')
  t.equal(page.$('#new-ticket-topic option').filter((_, o) => page.$(o).text() === 'Invoices').length, 0, 'only topics of departments Bob works in')

  page = await bob.submit(page, 'form[action="/staff/tickets"]', {
    source: 'phone',
    topic: String(desk.topics.broken),
    subject: 'Cannot print the payroll',
    message: 'Grace called: the payroll run stops at the printer.',
    firstKind: 'response',
    firstBody: 'We are on it; a technician comes by at 11.'
  })
  t.equal(page.status, 200)
  const number = /^\/staff\/tickets\/(\d+)$/.exec(page.url)?.[1] ?? ''
  t.ok(number, 'lands on the new ticket')
  t.match(page.$('[role=status]').text(), `Ticket ${number} is open; Grace Hopper is sent its private link.`)
  t.equal(page.$('dt:contains("Came in by") + dd').text(), 'Phone', 'the source is shown')
  t.match(page.$('main').text(), /Bob Kahn\s+opened the ticket from a phone call/, 'and the history says who opened it, and how')
  t.match(page.$('main').text(), 'a technician comes by at 11', 'the first reply is on the thread')
  const ticket = (await findTicketByNumber(app.db, number))!
  t.equal(ticket.source, 'phone')
  t.equal(ticket.answered, true, 'answered by the first reply')
  const created = await app.db('events').where({ ticket_id: ticket.id, type: 'created' }).first()
  t.equal(created.agent_id, desk.agents.bob.id, 'opened by Bob, as the history says')
  t.equal((await app.db('requesters').where({ email: 'grace@example.com' }).count({ n: '*' }).first())?.n, 1, 'the same requester, not a second one')

  await app.outbox.runOnce()
  const toGrace = smtp.messages.filter((m) => m.envelopeTo.includes('grace@example.com'))
  t.ok(toGrace.some((m) => /\/tickets\/\d+\/access\/[A-Za-z0-9_-]{43}/.test(m.parsed.text ?? '') && (m.parsed.subject ?? '').includes(number)), 'Grace receives the received notice with her private link')
  t.ok(toGrace.some((m) => (m.parsed.text ?? '').includes('a technician comes by at 11')), 'and the reply')
})

t.test('a walk-in who is not told: a new requester, an internal note, the agent\'s assignee instead of routing', async (t) => {
  const smtp = await smtpServer(t)
  const app = await testApp(t, { ...mailEnv, SMTP_URL: smtp.url }, { startWorkers: false })
  const desk = await seedDesk(app)
  await app.db('help_topics').where({ id: desk.topics.broken }).update({ default_team_id: desk.teams.printers })
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  let page = await ada.get('/staff/tickets/new')
  page = await ada.submit(page, 'form[action="/staff/tickets"]', {
    name: 'Walter Visitor',
    email: 'Walter@Example.org',
    source: 'walk_in',
    topic: String(desk.topics.broken),
    priority: '4',
    assignee: String(desk.agents.bob.id),
    subject: 'Badge does not open the door',
    message: 'Came to the desk: the badge fails at door 3.',
    notify: '',
    firstKind: 'note',
    firstBody: 'Checked his badge: the chip is cracked.'
  })
  const number = /^\/staff\/tickets\/(\d+)$/.exec(page.url)?.[1] ?? ''
  t.match(page.$('[role=status]').text(), 'the requester was not told')
  t.equal(page.$('dt:contains("Came in by") + dd').text(), 'Walk-in')
  t.match(page.$('main').text(), 'opened the ticket for a visitor at the desk')
  t.equal(page.$('dt:contains("Assignee") + dd').text(), 'Bob Kahn', 'the agent\'s choice of assignee')
  t.equal(page.$('dt:contains("Team") + dd').text(), '—', 'the topic\'s routing did not apply')
  t.equal(page.$('dt:contains("Priority") + dd').text(), 'Urgent')
  t.match(page.$('main').text(), 'the chip is cracked', 'the note is on the thread')
  const ticket = (await findTicketByNumber(app.db, number))!
  t.equal(ticket.answered, false, 'a note is no answer')
  t.equal((await app.db('requesters').where({ email: 'walter@example.org' }).first())?.name, 'Walter Visitor', 'a new requester, address in its one form')
  await app.outbox.runOnce()
  t.notOk(smtp.messages.some((m) => m.envelopeTo.includes('walter@example.org')), 'nothing is sent to Walter')

  page = await ada.get('/staff/tickets/new')
  page = await ada.submit(page, 'form[action="/staff/tickets"]', {
    name: 'Walter Visitor', email: 'walter@example.org', source: 'other', topic: String(desk.topics.broken), subject: 'Routed', message: 'Again.'
  })
  t.equal(page.$('dt:contains("Team") + dd').text(), 'Printers', 'without an assignee, the topic routes it as any new ticket')
})
