import t from 'tap'
import { assetUrls } from '../../../src/web/plugins/assets.js'
import { listOutbox } from '../../../src/data/outbox.js'
import { testApp } from '../../helpers/app.js'
import { Visitor } from '../../helpers/visitor.js'
import { tokenInSentMail } from '../../helpers/mail.js'

const ticket = { topic: '1', name: 'Grace Hopper', email: 'grace@example.com', subject: 'Printer jams', message: 'Page two jams.' }

t.test('ticket creation is rate limited per address, and the form keeps the text when it says so', async (t) => {
  const app = await testApp(t, { TICKET_RATE_LIMIT: '2' })
  const visitor = new Visitor(app)
  for (let i = 0; i < 2; i++) {
    const form = await visitor.get('/tickets/new')
    t.match((await visitor.submit(form, 'form[action="/tickets"]', ticket)).text, /Ticket \d{6} received/)
  }
  const form = await visitor.get('/tickets/new')
  const refused = await visitor.submit(form, 'form[action="/tickets"]', { ...ticket, subject: 'A third one' })
  t.equal(refused.status, 429)
  t.match(refused.$('.error-summary').text(), 'You have sent this form too often')
  t.equal(refused.$('#ticket-subject').attr('value'), 'A third one', 'the text is kept')
  t.equal((await app.db('tickets').select('id')).length, 2)
})

t.test('the honeypot field catches robots without a ticket being made', async (t) => {
  const app = await testApp(t)
  const visitor = new Visitor(app)
  const form = await visitor.get('/tickets/new')
  t.equal(form.$('#ticket-website').closest('.field').hasClass('trap'), true, 'the field is hidden from people')
  const page = await visitor.submit(form, 'form[action="/tickets"]', { ...ticket, website: 'http://spam.example' })
  t.equal(page.status, 422)
  t.equal(page.$('#ticket-website-error').text(), 'Leave this field empty.')
  t.equal((await app.db('tickets').select('id')).length, 0)
})

t.test('"check a ticket" answers the same whether or not the details match', async (t) => {
  const app = await testApp(t)
  const opened = await app.lifecycle.openTicket({ name: 'Grace', email: 'grace@example.com', subject: 'S', message: 'M', helpTopicId: 1 })
  const visitor = new Visitor(app)
  const form = await visitor.get('/check')
  const match = await visitor.submit(form, 'form', { email: 'Grace@Example.com', number: `#${opened.ticket.number}` })
  const miss = await visitor.submit(form, 'form', { email: 'someone@example.com', number: opened.ticket.number })
  t.equal(match.status, 200)
  t.equal(match.$('main').text(), miss.$('main').text(), 'the answer does not reveal a match')
  t.match(match.text, 'If the e-mail address and ticket number match a ticket')
  const links = (await listOutbox(app.db, { ticketId: opened.ticket.id })).filter((m) => m.template === 'access_link')
  t.equal(links.length, 1, 'a fresh link is queued only for the match')
  const token = await tokenInSentMail(app, links[0]!.id)
  t.equal((await new Visitor(app).get(`/tickets/${opened.ticket.number}/access/${token}`)).status, 200, 'and it opens the ticket')
})

t.test('security headers and long-cached, content-hashed assets', async (t) => {
  const app = await testApp(t)
  const visitor = new Visitor(app)
  const home = await visitor.get('/')
  const csp = String(home.headers['content-security-policy'])
  t.match(csp, "script-src 'self'")
  t.notMatch(csp, 'unsafe-inline', 'no inline script or style is allowed')
  t.equal(home.headers['referrer-policy'], 'no-referrer', 'private-link tokens never leak in a Referer')
  t.equal(home.headers['x-content-type-options'], 'nosniff')
  t.equal(home.$('script').length, 0, 'the portal home needs no JavaScript')

  const css = home.$('link[rel=stylesheet]').attr('href')!
  t.match(css, /^\/assets\/app\.css\?v=[0-9a-f]{12}$/)
  const cssResponse = await app.inject(css)
  t.equal(cssResponse.statusCode, 200)
  t.equal(cssResponse.headers['cache-control'], 'public, max-age=31536000, immutable')

  const opened = await app.lifecycle.openTicket({ name: 'Grace', email: 'grace@example.com', subject: 'S', message: 'M', helpTopicId: 1 })
  const page = await visitor.get(`/tickets/${opened.ticket.number}/access/${opened.accessToken}`)
  t.equal(page.$('script').length, 0, 'the client ticket page loads no script either: its one form posts and redirects')
  const htmx = assetUrls('')('vendor/htmx.min.js')
  t.match(htmx, /^\/assets\/vendor\/htmx\.min\.js\?v=[0-9a-f]{12}$/, 'htmx (for the staff panel) is vendored and versioned')
  const script = await app.inject(htmx)
  t.equal(script.statusCode, 200)
  t.match(script.body, 'htmx')
  t.equal((await app.inject('/assets/vendor/package.json')).statusCode, 404, 'nothing else of the package is exposed')

  const icon = await app.inject(home.$('link[rel=icon]').attr('href')!)
  t.equal(icon.statusCode, 200, 'pages name a fingerprinted icon')
  t.equal(icon.headers['cache-control'], 'public, max-age=31536000, immutable')
  const conventional = await app.inject('/favicon.ico')
  t.equal(conventional.statusCode, 200, '/favicon.ico answers too')
  t.match(conventional.headers['content-type'], /^image\/(x-icon|vnd\.microsoft\.icon)/)
  t.ok(home.$('meta[name=description]').attr('content'), 'a meta description')
})
