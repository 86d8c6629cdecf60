import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'

t.test('bad input on the new-ticket form: 422, every word kept, the problem beside its field', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const form = await bob.get('/staff/tickets/new')
  const typed = { name: 'Ann <script>alert(1)</script>', email: 'not-an-address', subject: '', message: 'Robert\'); DROP TABLE tickets;--', source: 'fax', topic: '999999' }
  let page = await bob.submit(form, 'form[action="/staff/tickets"]', typed)
  t.equal(page.status, 422)
  t.equal(page.$('#new-ticket-name').val(), typed.name, 'the name kept, as text')
  t.equal(page.$('script:contains("alert(1)")').length, 0, 'never markup')
  t.equal(page.$('#new-ticket-message').text(), typed.message, 'the message kept')
  t.match(page.$('#new-ticket-email-error').text(), 'like name@example.com')
  t.match(page.$('#new-ticket-subject-error').text(), 'Enter a subject.')
  t.match(page.$('#new-ticket-source-error').text(), 'Choose one of the ways listed.')
  t.match(page.$('#new-ticket-topic-error').text(), 'Choose one of the help topics listed.')

  const valid = { name: 'Ann', email: 'ann@example.com', subject: 'Hello', message: 'Hi', source: 'phone', topic: String(desk.topics.broken) }
  page = await bob.submit(form, 'form[action="/staff/tickets"]', { ...valid, department: String(desk.departments.billing) })
  t.equal(page.status, 422, 'a department Bob has no working role in is refused')
  t.match(page.$('#new-ticket-department-error').text(), 'Choose one of the departments listed.')
  page = await bob.submit(form, 'form[action="/staff/tickets"]', { ...valid, assignee: String(desk.agents.ned.id) })
  t.equal(page.status, 422, 'an assignee who does not work in Support is refused')
  t.match(page.$('#new-ticket-assignee-error').text(), 'works in this department')
  page = await bob.submit(form, 'form[action="/staff/tickets"]', { ...valid, priority: '9', firstKind: 'shout' })
  t.equal(page.status, 422)
  t.ok(page.$('#new-ticket-priority-error').length === 1 && page.$('#new-ticket-firstKind-error').length === 1)
  t.equal((await app.db('tickets').count({ n: '*' }).first())?.n, 0, 'nothing was opened')

  const { visitor: vic } = await signIn(app, desk.agents.vic.email)
  page = await vic.submit(await vic.get('/staff/tickets/new'), 'form[action="/staff/tickets"]', valid)
  t.equal(page.status, 422, 'a viewer opens no ticket')
  t.match(page.$('#new-ticket-topic-error').text(), 'does not allow opening tickets')
})
