import t from 'tap'
import { listOutbox } from '../../../src/data/outbox.js'
import { testApp } from '../../helpers/app.js'
import { Visitor } from '../../helpers/visitor.js'

t.test('a visitor opens a ticket, follows the private link and replies', async (t) => {
  const app = await testApp(t)
  const visitor = new Visitor(app)

  const home = await visitor.get('/')
  t.equal(home.status, 200)
  const form = await visitor.get(home.$('a:contains("Open a ticket")').first().attr('href')!)
  t.equal(form.status, 200)
  t.ok(form.$('label[for=ticket-subject]').length, 'the subject field has a label')

  const topic = form.$('select[name=topic] option').filter((_, o) => form.$(o).text() === 'Something is broken').attr('value')!
  const created = await visitor.submit(form, 'form[action="/tickets"]', {
    topic,
    name: 'Grace Hopper',
    email: 'Grace@Example.com',
    subject: 'Printer jams on page two',
    message: 'Every time I print two pages, the second one jams.'
  })
  t.equal(created.status, 200)
  const number = /Ticket (\d{6}) received/.exec(created.text)?.[1]
  t.ok(number, 'the confirmation shows the ticket number')
  const privateLink = created.$('.private-link a').attr('href')!
  t.match(privateLink, new RegExp(`^http://help\\.example\\.test/tickets/${number}/access/[A-Za-z0-9_-]{43}$`))

  const again = await visitor.get(`/tickets/${number}/created`)
  t.equal(again.$('.private-link').length, 0, 'the private link is shown only once')

  const [received] = await listOutbox(app.db, { toAddress: 'grace@example.com' })
  t.equal(received?.template, 'ticket_received', 'the link is queued by e-mail')
  t.equal(JSON.parse(received!.payload).number, number)

  // Someone else, on another device, with only the link.
  const phone = new Visitor(app)
  const path = new URL(privateLink).pathname
  const redirect = await phone.get(path, { follow: false })
  t.equal(redirect.status, 303)
  t.equal(redirect.headers.location, `/tickets/${number}`, 'the token leaves the address bar')
  const ticket = await phone.get(String(redirect.headers.location))
  t.equal(ticket.status, 200)
  t.match(ticket.text, 'Printer jams on page two')
  t.match(ticket.text, 'Every time I print two pages')
  t.equal(ticket.$('[aria-current=step]').text(), 'Submitted')

  const replied = await phone.submit(ticket, `form[action="/tickets/${number}/replies"]`, { message: 'It also happens with one page.' })
  t.equal(replied.status, 200)
  t.match(replied.text, 'Your reply has been sent.')
  t.match(replied.text, 'It also happens with one page.')

  const stranger = new Visitor(app)
  t.equal((await stranger.get(`/tickets/${number}`)).status, 404, 'without the link the ticket does not exist')
})

t.test('a form with mistakes comes back with the text kept and each problem named', async (t) => {
  const app = await testApp(t)
  const visitor = new Visitor(app)
  const form = await visitor.get('/tickets/new')
  const page = await visitor.submit(form, 'form[action="/tickets"]', {
    name: '  ',
    email: 'not-an-address',
    subject: '<script>alert(1)</script>',
    message: "Robert'); DROP TABLE tickets;--"
  })
  t.equal(page.status, 422)
  t.equal(page.$('#ticket-name-error').text(), 'Enter your name.')
  t.equal(page.$('#ticket-email-error').text(), 'Enter an e-mail address like name@example.com.')
  t.equal(page.$('#ticket-topic-error').text(), 'Choose a help topic.')
  t.equal(page.$('#ticket-subject').attr('value'), '<script>alert(1)</script>', 'the subject is kept')
  t.notMatch(page.html, '<script>alert(1)</script>', 'and shown escaped')
  t.equal(page.$('#ticket-message').text(), "Robert'); DROP TABLE tickets;--")
  t.same(page.$('.error-summary a').map((_, a) => page.$(a).attr('href')).get(), ['#ticket-topic', '#ticket-name', '#ticket-email'])
})
