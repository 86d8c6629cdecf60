import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { testApp } from '../../helpers/app.js'
import { openTicket, password, seedDesk } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

/** Every POST route the app has, read from Fastify's own route tree so a new route is never missed. */
function postRoutes (app: FastifyInstance): string[] {
  const paths: string[] = []
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false, method: 'POST' }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+) \(POST\)/.exec(line)
    if (!match) continue
    const depth = match[1]!.length / 4
    stack.length = depth
    stack.push(match[2]!)
    paths.push(stack.join(''))
  }
  return paths
}

const form = { 'content-type': 'application/x-www-form-urlencoded' }
const typed = 'A long answer the agent spent twenty minutes on'

t.test('every staff POST with a missing or stale CSRF token answers calmly, never with a 500', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  // Pages of things addressed by id exist for id 1, so the form they show again is found.
  await app.db('sla_schedules').insert({ id: 1, name: 'Office hours', time_zone: 'UTC', windows: '[]', holidays: '[]', created_at: 0 })
  await app.db('sla_plans').insert({ id: 1, name: 'Standard', first_response_hours: 4, resolution_hours: 24, schedule_id: 1, created_at: 0 })
  const routes = postRoutes(app).filter((path) => path.startsWith('/staff/'))
  t.ok(routes.includes('/staff/tickets/:number/replies') && routes.includes('/staff/logout') && routes.length >= 10, `found the staff POST routes: ${routes.join(' ')}`)
  const urlOf = (path: string): string => path.replace(':number', ticket.number).replace(':id', '1').replace(':token', 'not-a-real-token')
  const body = new URLSearchParams({ message: typed, target: '999999', status: 'resolved', priority: '3', agent: String(desk.agents.bob.id), ids: ticket.number, action: 'claim' }).toString()
  const signedInArea = (path: string): boolean => !/^\/staff\/(login|logout|password-reset|setup)\b/.test(path)

  const anonymous = new Visitor(app)
  const ada = new Visitor(app)
  const login = await ada.get('/staff/login')
  const staleToken = login.$('input[name=_csrf]').attr('value')!
  const queue = await ada.submit(login, 'form', { email: desk.agents.ada.email, password })
  t.match(queue.url, /^\/staff\/queues\//)

  for (const path of routes) {
    const url = urlOf(path)
    const signedOut = await anonymous.post(url, body, { headers: form, follow: false })
    t.not(signedOut.status, 500, `${path} signed out, no token: ${signedOut.status}`)
    if (signedInArea(path)) {
      t.equal(signedOut.status, 303, `${path} signed out sends to the sign-in page`)
      t.match(signedOut.headers.location, /^\/staff\/login/)
      const htmx = await anonymous.post(url, body, { headers: { ...form, 'hx-request': 'true' }, follow: false })
      t.equal(htmx.status, 401, `${path} signed out via htmx`)
      t.equal(htmx.headers['hx-redirect'], '/staff/login')
    }

    for (const [how, token] of [['no token', undefined], ['a stale token', staleToken]] as const) {
      const payload = token === undefined ? body : `${body}&_csrf=${encodeURIComponent(token)}`
      const res = await ada.post(url, payload, { headers: form, follow: false })
      t.not(res.status, 500, `${path} signed in with ${how}: ${res.status}`)
      if (signedInArea(path) || path === '/staff/logout') {
        t.equal(res.status, 403, `${path} signed in with ${how} answers 403`)
        t.match(res.text, /form had expired, so nothing was saved/, `${path} says the form expired`)
      }
    }
  }
  t.equal((await ada.get('/staff/queues/open')).status, 200, 'and the agent is still signed in')

  const bob = new Visitor(app)
  await bob.submit(await bob.get('/staff/login'), 'form', { email: desk.agents.bob.email, password })
  for (const path of routes.filter((p) => p.startsWith('/staff/admin/'))) {
    t.equal((await bob.post(urlOf(path), body, { headers: form, follow: false })).status, 404, `${path} does not exist for an agent, token or not`)
  }
  t.equal((await app.db('thread_entries').where({ ticket_id: ticket.id })).length, 1, 'nothing was saved')
})

t.test('an expired reply, note or draft keeps the agent’s text', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  const bob = new Visitor(app)
  const login = await bob.get('/staff/login')
  await bob.submit(login, 'form', { email: desk.agents.bob.email, password })

  for (const kind of ['replies', 'notes']) {
    const page: Page = await bob.post(`/staff/tickets/${ticket.number}/${kind}`, new URLSearchParams({ message: typed }).toString(), { headers: form })
    t.equal(page.status, 403, `${kind}: refused`)
    t.match(page.$('.error-summary').text(), 'This form had expired', `${kind}: says why`)
    t.equal(page.$('textarea[name=message]').text(), typed, `${kind}: the text is back in the box, ready to send again`)
    t.ok(page.$('form input[name=_csrf]').attr('value'), `${kind}: with a fresh token`)
  }

  const draft = await bob.post(`/staff/tickets/${ticket.number}/draft`, new URLSearchParams({ message: typed, canned: '1' }).toString(), { headers: form })
  t.equal(draft.status, 403)
  t.match(draft.text, 'Nothing was saved')
  t.equal(draft.$('textarea[readonly]').first().text(), typed, 'the draft is shown to copy')
  t.equal(draft.$(`a[href="/staff/tickets/${ticket.number}"]`).length, 1, 'with a way back to the ticket')

  const fragment = await bob.post(`/staff/tickets/${ticket.number}/draft`, new URLSearchParams({ message: typed }).toString(), { headers: { ...form, 'hx-request': 'true' } })
  t.equal(fragment.status, 403)
  t.notMatch(fragment.html, '<html', 'htmx gets the message alone, to swap in')
  t.equal(fragment.$('textarea[readonly]').text(), typed)
})

t.test('the expired-form page and the sign-in history are valid HTML', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  const ada = new Visitor(app)
  const login = await ada.get('/staff/login')
  await ada.submit(login, 'form', { email: desk.agents.ada.email, password: 'wrong password' })
  await ada.submit(login, 'form', { email: 'nobody@desk.test', password: 'wrong password' })
  await ada.submit(login, 'form', { email: desk.agents.ada.email, password })
  const history = await ada.get('/staff/admin/sign-ins')
  t.equal(history.status, 200)
  t.match(history.text, '(no such agent)')
  const expired = await ada.post(`/staff/tickets/${ticket.number}/draft`, new URLSearchParams({ message: `${typed}\n<script>alert(1)</script>` }).toString(), { headers: form })
  t.equal(expired.status, 403)
  t.equal(expired.$('script:not([src])').length, 0, 'what was typed is shown as text, never run')
  await assertValidDocuments(t, { 'sign-in history': history.html, 'form expired': expired.html })
})
