import * as cheerio from 'cheerio'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { listOutbox } from '../../../src/data/outbox.js'
import { findTicketByNumber } from '../../../src/data/tickets.js'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { plainMessage } from '../../helpers/mail.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

const form = 'form[action="/tickets"]'

async function ticketForm (app: FastifyInstance, visitor = new Visitor(app)): Promise<{ visitor: Visitor, page: Page, topic: string }> {
  const page = await visitor.get('/tickets/new')
  const topic = page.$('select[name=topic] option').filter((_, o) => page.$(o).text() === 'Something is broken').attr('value')!
  return { visitor, page, topic }
}

const numberOn = (page: Page): string | undefined => /Ticket (\d{6,12}) received/.exec(page.text)?.[1]

t.test('a name typed on the portal applies to that ticket only, never to a known requester\'s profile', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const grace = await ticketForm(app)
  const first = await grace.visitor.submit(grace.page, form, { topic: grace.topic, name: 'Grace Hopper', email: 'grace@example.com', subject: 'Printer jams', message: 'Page two jams.' })
  const firstNumber = numberOn(first)!

  const mallory = await ticketForm(app)
  const forged = await mallory.visitor.submit(mallory.page, form, { topic: mallory.topic, name: 'CEO - wire 10k to account 99', email: 'grace@example.com', subject: 'Urgent payment', message: 'Do it now.' })
  const forgedNumber = numberOn(forged)!
  t.ok(forgedNumber, 'the ticket is opened')

  t.same((await app.db('requesters').select('name', 'email')), [{ name: 'Grace Hopper', email: 'grace@example.com' }], 'the profile keeps its name')
  t.equal((await findTicketByNumber(app.db, forgedNumber))!.requester_name_given, 'CEO - wire 10k to account 99', 'the typed name is kept on its ticket')

  const gracesPage = await grace.visitor.get(`/tickets/${firstNumber}`)
  t.notMatch(gracesPage.text, 'CEO', 'Grace\'s ticket still shows her name')
  t.match(gracesPage.$('.entry .meta strong').first().text(), 'Grace Hopper')

  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const older = await ada.get(`/staff/tickets/${firstNumber}`)
  t.notMatch(older.text, 'CEO', 'staff see no trace of it on her other tickets')
  t.match(older.$('#ticket-summary').text(), 'Grace Hopper')
  const newer = await ada.get(`/staff/tickets/${forgedNumber}`)
  t.match(newer.$('#ticket-summary dt:contains("Requester") + dd').text(), 'Grace Hopper', 'the new ticket names the known requester')
  t.match(newer.$('#ticket-summary').text(), 'Gave the name “CEO - wire 10k to account 99” on this ticket', 'and shows the typed name beside it')

  const mails = (await listOutbox(app.db, { toAddress: 'grace@example.com' })).map((m) => JSON.parse(m.payload) as { name: string })
  t.same(mails.map((m) => m.name), ['Grace Hopper', 'Grace Hopper'], 'mail to the address greets its owner by her own name')

  // The same holds for a name in a mail's From line.
  const byMail = await app.inbound.receive(plainMessage({ From: 'Payroll Department <grace@example.com>', Subject: 'New bank details' }))
  t.equal(byMail.outcome, 'ticket')
  t.same((await app.db('requesters').select('name')), [{ name: 'Grace Hopper' }])
  t.equal((await findTicketByNumber(app.db, (byMail as { ticketNumber: string }).ticketNumber))!.requester_name_given, 'Payroll Department')
})

t.test('sending the same new-ticket form twice, one after the other, opens one ticket', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const { visitor, page, topic } = await ticketForm(app)
  t.match(page.$('input[type=hidden][name=submission]').attr('value'), /^[A-Za-z0-9_-]{22}$/, 'the form carries a one-time id')
  const fields = { topic, name: 'Grace Hopper', email: 'grace@example.com', subject: 'Printer jams', message: 'Page two jams.' }

  const first = await visitor.submit(page, form, fields)
  // Grace gave up waiting and pressed again: the same form, sent once more.
  const again = await visitor.submit(page, form, fields)
  t.equal(numberOn(again), numberOn(first), 'the second answer is the first ticket')
  t.match(again.$('.private-link a').attr('href'), new RegExp(`/tickets/${numberOn(first)!}/access/`), 'with a private link that works in that browser')
  t.equal((await app.db('tickets')).length, 1)
  t.equal((await listOutbox(app.db, {})).filter((m) => m.template === 'ticket_received').length, 1, 'and one confirmation mail')

  const fresh = await ticketForm(app, visitor)
  t.not(fresh.page.$('input[name=submission]').attr('value'), page.$('input[name=submission]').attr('value'), 'a new form has a new id')
  const second = await visitor.submit(fresh.page, form, { ...fields, subject: 'Scanner jams' })
  t.not(numberOn(second), numberOn(first), 'and opens a new ticket')

  // Someone else who sends the same id (a shared or copied form) gets a ticket of their own.
  const eve = await ticketForm(app)
  const gracesId = page.$('input[name=submission]').attr('value')!
  const stranger = await eve.visitor.submit(eve.page, form, { ...fields, submission: gracesId, name: 'Eve', email: 'eve@example.com', subject: 'Mine' })
  t.not(numberOn(stranger), numberOn(first))
  t.notMatch(stranger.text, 'Printer jams', 'and sees nothing of Grace\'s')
})

t.test('the same new-ticket form sent twice at once opens one ticket', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const { visitor, page, topic } = await ticketForm(app)
  const fields = { topic, name: 'Grace Hopper', email: 'grace@example.com', subject: 'Printer jams', message: 'Page two jams.' }
  const answers = await Promise.all([1, 2, 3].map(async () => await visitor.submit(page, form, fields)))
  t.same(answers.map((a) => a.status), [200, 200, 200])
  const numbers = new Set(answers.map(numberOn))
  t.equal(numbers.size, 1, 'every answer names the same ticket')
  t.equal((await app.db('tickets')).length, 1)
  t.equal((await app.db('events').where({ type: 'created' })).length, 1)
})

t.test('the empty form is made once, but every visitor gets a token and a submission id of their own', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const ann = await ticketForm(app)
  const bob = await ticketForm(app)
  const field = (page: Page, name: string): string => page.$(`${form} input[name=${name}]`).attr('value') ?? ''
  t.not(field(ann.page, '_csrf'), field(bob.page, '_csrf'), 'two visitors, two CSRF tokens')
  t.not(field(ann.page, 'submission'), field(bob.page, 'submission'), 'two visitors, two submission ids')
  t.match(field(ann.page, 'submission'), /^[A-Za-z0-9_-]{22}$/)
  const secretOf = (visitor: Visitor): string => visitor.cookie('tessera_csrf', '/')!.replace(/\.[^.]*$/, '')
  t.match(secretOf(ann.visitor), /^[A-Za-z0-9_-]{24}$/, 'a CSRF secret of 18 random bytes')
  t.not(secretOf(ann.visitor), secretOf(bob.visitor), 'two visitors, two CSRF secrets')
  const crossed = await bob.visitor.post('/tickets', new URLSearchParams({ _csrf: field(ann.page, '_csrf'), topic: ann.topic, name: 'Bob', email: 'bob@example.com', subject: 'Printer', message: 'Jams.' }).toString(),
    { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(crossed.status, 403, 'Ann\'s token does not pass with Bob\'s secret')
  const preselected = await ann.visitor.get(`/tickets/new?topic=${desk.topics.billing}`)
  t.equal(preselected.$('select[name=topic] option[selected]').attr('value'), String(desk.topics.billing), 'a topic from the link is preselected')
  const unknown = await ann.visitor.get('/tickets/new?topic=constructor')
  t.equal(unknown.status, 200, 'an unknown topic shows the form as usual')
  for (const [who, visitor, page] of [['Ann', ann.visitor, ann.page], ['Bob', bob.visitor, bob.page]] as const) {
    const sent = await visitor.submit(page, form, { topic: ann.topic, name: who, email: `${who.toLowerCase()}@example.com`, subject: 'Printer', message: 'Jams.' })
    t.ok(numberOn(sent), `${who}'s form opens a ticket with the token it was given`)
  }
})

t.test('the blank form, kept as bytes around its two slots, carries a desk name beyond ASCII whole, with a true Content-Length', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  await ada.submit(await ada.get('/staff/admin/settings'), 'form[action="/staff/admin/settings"]', { name: 'Hilfe — Café ✓ 🎫' })
  for (const visitor of [new Visitor(app), new Visitor(app)]) {
    const answer = await app.inject({ url: '/tickets/new' })
    t.equal(Number(answer.headers['content-length']), answer.rawPayload.length, 'Content-Length counts the bytes sent')
    t.equal(cheerio.load(answer.body)('title').text(), 'Open a ticket · Hilfe — Café ✓ 🎫', 'the name arrives whole')
    const { page } = await ticketForm(app, visitor)
    t.match(page.$(`${form} input[name=_csrf]`).attr('value'), /^[A-Za-z0-9_-]+-[A-Za-z0-9_-]+$/, 'a token in its slot')
    const sent = await visitor.submit(page, form, { topic: page.$('select[name=topic] option').eq(1).attr('value')!, name: 'Uli', email: 'uli@example.com', subject: 'Drucker', message: 'Papierstau.' })
    t.ok(numberOn(sent), 'and the form opens a ticket')
  }
})
