import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { holdWallClock, testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { apiKey, plainMessage, postMail } from '../../helpers/mail.js'
import { Visitor, type Page } from '../../helpers/visitor.js'
import { blockedListCacheMs } from '../../../src/domain/blocked-senders.js'

const portalForm = 'form[action="/tickets"]'

async function portalTicket (app: FastifyInstance, email: string): Promise<Page> {
  const visitor = new Visitor(app)
  const page = await visitor.get('/tickets/new')
  const topic = page.$('select[name=topic] option').filter((_, o) => page.$(o).text() === 'Something is broken').attr('value')!
  return await visitor.submit(page, portalForm, { topic, name: 'Sam Spammer', email, subject: 'Cheap pills', message: 'Buy now!' })
}

t.test('an administrator blocks a domain: its mail is set aside, the portal refuses it, unblocking is one click', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  let page = await ada.get('/staff/admin')
  page = await ada.get(page.$('nav.admin-nav a:contains("Blocked senders")').attr('href')!)
  t.equal(page.status, 200)
  page = await ada.submit(page, 'form[action="/staff/admin/blocked-senders"]', { sender: ' Spam.Example ' })
  t.match(page.$('[role=status]').text(), 'Mail from every address at spam.example is now set aside.')
  t.match(page.$('table').first().text(), 'spam.example (every address)')
  page = await ada.submit(page, 'form[action="/staff/admin/blocked-senders"]', { sender: 'one@ok.example' })
  t.match(page.$('table').first().text(), 'one@ok.example')

  const byPipe = await app.inbound.receive(plainMessage({ From: 'Sam <sam@spam.example>', Subject: 'Cheap pills by mail' }))
  t.same(byPipe, { outcome: 'ignored', reason: 'blocked sender' }, 'mail from the domain is set aside')
  const byApi = await postMail(app, plainMessage({ From: 'Sue <SUE@spam.example>', Subject: 'Cheap pills by API' }), await apiKey(app))
  t.equal(byApi.status, 202, 'the API takes the message, as one it ignored')
  t.match(JSON.stringify(byApi.body), 'blocked sender', 'and sets it aside too')
  const okMail = await app.inbound.receive(plainMessage({ From: 'Two <two@ok.example>', Subject: 'A real question' }))
  t.equal(okMail.outcome, 'ticket', 'a blocked address leaves its neighbours alone')
  t.equal((await app.db('tickets').count({ n: '*' }).first())?.n, 1, 'no ticket from the blocked senders')
  t.equal((await app.db('outbox').whereIn('to_address', ['sam@spam.example', 'sue@spam.example']).count({ n: '*' }).first())?.n, 0, 'and nothing answered')

  page = await ada.get('/staff/admin/blocked-senders')
  const setAside = page.$('table').last().text()
  t.match(setAside, 'Cheap pills by mail', 'the administrator sees what was set aside')
  t.match(setAside, 'sue@spam.example')

  let portal = await portalTicket(app, 'sam@SPAM.example')
  t.equal(portal.status, 422, 'the portal refuses the domain')
  t.match(portal.$('.error-summary').text(), 'We could not accept this request. Please contact us another way.')
  t.notMatch(portal.text, /block/i, 'without saying why')
  t.equal(portal.$('#ticket-message').text(), 'Buy now!', 'the text is kept')

  const log = await ada.get('/staff/admin/log')
  t.match(log.text, 'Blocked senders')

  page = await ada.get('/staff/admin/blocked-senders')
  page = await ada.submit(page, 'form:has(button[aria-label="Unblock spam.example (every address)"])')
  t.match(page.$('[role=status]').text(), 'spam.example is no longer blocked.')
  portal = await portalTicket(app, 'sam@spam.example')
  t.match(portal.url, /\/tickets\/\d+\/created$/, 'unblocked, the portal takes the ticket')
  const events = await app.db('admin_events').where({ subject_type: 'blocked_sender' }).orderBy('id').select('action')
  t.same(events.map((e) => e.action), ['blocked', 'blocked', 'unblocked'], 'every change is in the admin log')
})

t.test('bad input on the block form: 422 with the text kept; the page exists only for administrators', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const form = await ada.get('/staff/admin/blocked-senders')
  for (const typed of ['not a domain', 'x@', '@@example.com', '<script>alert(1)</script>.com', '']) {
    const page = await ada.submit(form, 'form[action="/staff/admin/blocked-senders"]', { sender: typed })
    t.equal(page.status, 422, `"${typed}" is refused`)
    t.equal(page.$('#block-sender').val(), typed, 'and kept')
    t.ok(page.$('#block-sender-error').text().length > 0, 'with the problem beside the field')
  }
  const again = await ada.submit(form, 'form[action="/staff/admin/blocked-senders"]', { sender: 'example.com' })
  t.equal(again.status, 200)
  const twice = await ada.submit(form, 'form[action="/staff/admin/blocked-senders"]', { sender: '@EXAMPLE.com' })
  t.equal(twice.status, 200, 'blocking twice is calm')
  t.equal((await app.db('blocked_senders').count({ n: '*' }).first())?.n, 1)
  const gone = await ada.post('/staff/admin/blocked-senders/abc/removal', `_csrf=${encodeURIComponent(form.$('input[name=_csrf]').val() as string)}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(gone.status, 404, 'an id that is no id is not found')

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get('/staff/admin/blocked-senders')).status, 404, 'an agent does not see it')
})

t.test('the portal reads the blocked list at most once a second: a block made by another instance counts within that second', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await seedDesk(app)
  const wallClock = holdWallClock(t)
  t.match((await portalTicket(app, 'first@fine.example')).url, /\/created$/)

  const statements: string[] = []
  app.db.on('query', (query: { sql: string }) => statements.push(query.sql))
  t.match((await portalTicket(app, 'second@fine.example')).url, /\/created$/)
  t.notOk(statements.some((sql) => sql.includes('blocked_senders')), 'a ticket within the second asks nothing about blocked senders')

  // Written past this instance, as another instance's administrator would.
  await app.db('blocked_senders').insert({ pattern: '@late.example', created_by: null, created_at: 0 })
  wallClock.release()
  await new Promise((resolve) => setTimeout(resolve, blockedListCacheMs + 100))
  const refused = await portalTicket(app, 'sam@late.example')
  t.equal(refused.status, 422, 'a second later the portal refuses the newly blocked domain')
})

t.test('a blocked list too long to keep in memory is asked address by address', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await seedDesk(app)
  const patterns = Array.from({ length: 10_001 }, (_, i) => ({ pattern: `@spam${i}.example`, created_by: null, created_at: 0 }))
  await app.db.batchInsert('blocked_senders', patterns, 500)
  t.equal((await portalTicket(app, 'sam@spam10000.example')).status, 422, 'the last of 10,001 patterns still blocks')
  t.match((await portalTicket(app, 'sam@fine.example')).url, /\/created$/, 'and the others pass')
})
