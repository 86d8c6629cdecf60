import t from 'tap'
import { testApp } from '../helpers/app.js'
import { assertSafe, send } from '../helpers/answers.js'
import { openTicket, seedDesk, signIn } from '../helpers/fixtures.js'
import { prototypeKeys } from '../helpers/staff-forms.js'

// Keys every object inherits, where a query parameter or header names something to look up.

const inherited = [...prototypeKeys, 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupGetter__']

t.test('query parameters named after what every object inherits', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const number = (await openTicket(app, desk.topics.broken)).number
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const staffCookie = `tessera_staff=${ada.cookie('tessera_staff')!}`
  // Every GET route that reads a query parameter, with each parameter it reads.
  const gets: Array<{ path: string, params: string[], staff: boolean }> = [
    { path: '/staff/queues/open', params: ['sort', 'status', 'department', 'topic', 'priority', 'assignee', 'after', 'tickets'], staff: true },
    ...['unassigned', 'mine', 'teams', 'pending', 'resolved', 'closed'].map((queue) => ({ path: `/staff/queues/${queue}`, params: ['sort', 'status'], staff: true })),
    { path: '/staff/admin/outbox', params: ['status'], staff: true },
    { path: '/staff/login', params: ['next'], staff: false },
    { path: '/staff/password-reset', params: ['sent'], staff: false },
    { path: '/tickets/new', params: ['topic'], staff: false },
    { path: '/check', params: ['sent'], staff: false }
  ]
  for (const { path, params, staff } of gets) {
    for (const key of inherited) {
      for (const param of params) {
        const url = `${path}?${param}=${encodeURIComponent(key)}`
        const answer = await send(app, 'GET', url, { cookie: staff ? staffCookie : undefined })
        if (!assertSafe(t, answer, `GET ${url}`)) continue
        t.equal(answer.status, 200, `GET ${url}: the page, as if the parameter were not there`)
      }
      const named = `${path}?${encodeURIComponent(key)}=1&${encodeURIComponent(`${key}[x]`)}=1`
      const answer = await send(app, 'GET', named, { cookie: staff ? staffCookie : undefined })
      if (assertSafe(t, answer, `GET ${named}`)) t.equal(answer.status, 200, `GET ${named}: the page`)
    }
  }
  for (const key of inherited) {
    const url = `/staff/queues/${encodeURIComponent(key)}`
    const answer = await send(app, 'GET', url, { cookie: staffCookie })
    if (assertSafe(t, answer, `GET ${url}`)) t.equal(answer.status, 404, `GET ${url}: no such queue`)
  }
  const sorted = await send(app, 'GET', '/staff/queues/open?sort=constructor', { cookie: staffCookie })
  t.equal(sorted.$('#filter-sort option[selected]').attr('value'), 'activity', 'sort=constructor sorts by last activity')
  t.ok(sorted.$(`a[href="/staff/tickets/${number}"]`).length > 0, 'and lists the ticket')
})

t.test('HX-Target headers named after what every object inherits', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const staffCookie = `tessera_staff=${ada.cookie('tessera_staff')!}`
  // Every page that answers htmx with a fragment, and the fragment ids it knows.
  const pages: Array<{ url: string, cookie?: string, fragments: string[] }> = [
    { url: '/staff/queues/open', cookie: staffCookie, fragments: ['queue-results', 'queue-rows'] },
    { url: '/staff/queues/mine?sort=created', cookie: staffCookie, fragments: ['queue-results', 'queue-rows'] },
    { url: `/staff/tickets/${ticket.number}`, cookie: staffCookie, fragments: ['ticket-summary', 'conversation', 'viewers'] },
    { url: `/tickets/${ticket.number}/access/${ticket.token}`, fragments: [] },
    { url: '/no-such-page', fragments: [] }
  ]
  for (const { url, cookie, fragments } of pages) {
    for (const key of inherited) {
      const answer = await send(app, 'GET', url, { cookie, headers: { 'hx-request': 'true', 'hx-target': key } })
      const label = `GET ${url} with HX-Target: ${key}`
      t.ok(answer.status < 500, `${label}: not a server error (${answer.status})`)
      t.not(answer.body.trim(), '[object Object]', `${label}: not an object printed as text`)
      if (answer.status >= 300 && answer.status < 400) continue
      assertSafe(t, answer, label, { fragment: true })
      if (fragments.length > 0) t.match(answer.body, /^<!DOCTYPE html>/i, `${label}: the whole page, as for a target it does not know`)
    }
    for (const fragment of fragments) {
      const answer = await send(app, 'GET', url, { cookie, headers: { 'hx-request': 'true', 'hx-target': fragment } })
      t.equal(answer.status, 200, `GET ${url} with HX-Target: ${fragment}: answered`)
      t.notMatch(answer.body, /^<!DOCTYPE html>/i, `GET ${url} with HX-Target: ${fragment}: the fragment alone`)
    }
  }
})
