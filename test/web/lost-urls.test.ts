import t from 'tap'
import { withoutPort } from '../../src/web/proxy.js'
import { testApp } from '../helpers/app.js'
import { seedDesk } from '../helpers/fixtures.js'
import { Visitor } from '../helpers/visitor.js'

t.test('a GET of an address that only takes posts goes to the page its form belongs to', async (t) => {
  const app = await testApp(t)
  const visitor = new Visitor(app)
  const goes = async (from: string): Promise<string | undefined> => {
    const page = await visitor.get(from, { follow: false })
    t.equal(page.status, 303, `${from} redirects`)
    return page.headers.location as string | undefined
  }
  t.equal(await goes('/tickets'), '/tickets/new', 'the new-ticket post names its form')
  t.equal(await goes('/tickets/123456/replies'), '/tickets/123456')
  t.equal(await goes('/staff/tickets/123456/draft'), '/staff/tickets/123456')
  t.equal(await goes('/staff/tickets/123456/resolution'), '/staff/tickets/123456')
  t.equal(await goes('/staff/bulk'), '/staff')
  t.equal(await goes('/staff/admin/outbox/5/retry'), '/staff/admin/outbox', 'up as far as there is a page')
  t.equal(await goes('/tickets/new/?topic=2'), '/tickets/new?topic=2', 'a trailing slash goes, the query stays')
  t.equal(await goes('/staff/'), '/staff')
  t.equal((await visitor.get('/no-such-page/', { follow: false })).status, 404, 'an unknown address is still not found')
  t.equal((await visitor.get('/tickets/123456/no-such-thing', { follow: false })).status, 404)
})

t.test('with BASE_PATH, a proxy that strips the sub-path reaches the same pages', async (t) => {
  const app = await testApp(t, { BASE_PATH: '/support' })
  const visitor = new Visitor(app)
  const kept = await visitor.get('/support/tickets/new')
  const stripped = await visitor.get('/tickets/new')
  t.equal(stripped.status, 200)
  t.equal(stripped.$('form').attr('action'), '/support/tickets', 'links still carry the sub-path')
  t.equal(stripped.$('h1').text(), kept.$('h1').text())
  t.equal((await visitor.get('/', { follow: false })).status, 200, 'the portal home, stripped to /')
  t.equal((await visitor.get('/staff', { follow: false })).headers.location, '/support/staff/login?next=%2Fsupport%2Fstaff')
})

t.test('X-Forwarded-For with a port (IIS ARR) still names one client, so rate limits hold', async (t) => {
  t.equal(withoutPort('198.51.100.8:51234'), '198.51.100.8')
  t.equal(withoutPort(' [2001:db8::1]:443'), '2001:db8::1')
  t.equal(withoutPort('2001:db8::1'), '2001:db8::1', 'a bare IPv6 address has no port to lose')
  t.equal(withoutPort('unknown'), 'unknown')

  const app = await testApp(t, { TRUST_PROXY: '127.0.0.1', TICKET_RATE_LIMIT: '2' })
  const desk = await seedDesk(app)
  const visitor = new Visitor(app)
  const open = async (forwardedFor: string, n: number): Promise<number> => {
    const form = await visitor.get('/tickets/new')
    const page = await visitor.submit(form, 'form[action="/tickets"]', {
      topic: String(desk.topics.broken), name: 'Grace Hopper', email: 'grace@example.com', subject: `Printer ${n}`, message: 'It jams.'
    }, { headers: { 'x-forwarded-for': forwardedFor }, follow: false })
    return page.status
  }
  t.equal(await open('198.51.100.8:51234', 1), 303)
  t.equal(await open('198.51.100.8:51240', 2), 303)
  t.equal(await open('198.51.100.8:51301', 3), 429, 'the third ticket in the hour from one client is refused, whatever its port')
  t.equal(await open('203.0.113.9:51301', 4), 303, 'another client is not')
})
