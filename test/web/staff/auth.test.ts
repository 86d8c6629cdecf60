import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { listOutbox } from '../../../src/data/outbox.js'
import { testApp } from '../../helpers/app.js'
import { password, seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor } from '../../helpers/visitor.js'
import { tokenInSentMail } from '../../helpers/mail.js'

t.test('first run: the one-time setup link creates the first administrator, then disappears', async (t) => {
  const app = await testApp(t)
  t.ok(await app.accounts.needsSetup())
  const token = await app.accounts.issueSetupToken()
  const visitor = new Visitor(app)
  const setup = await visitor.get(`/staff/setup/${token}`)
  t.equal(setup.status, 200)

  const mismatch = await visitor.submit(setup, 'form', { name: 'Ada Lovelace', email: 'ada@desk.test', password: 'long enough pass', confirm: 'something else' })
  t.equal(mismatch.status, 422)
  t.equal(mismatch.$('#setup-confirm-error').text(), 'The two passwords are not the same.')
  t.equal(mismatch.$('#setup-name').attr('value'), 'Ada Lovelace', 'the name is kept')

  const done = await visitor.submit(mismatch, 'form', { password: 'long enough pass', confirm: 'long enough pass' })
  t.equal(done.status, 200)
  t.equal(done.url, '/staff/admin', 'the new administrator is signed in, at the setup checklist')
  t.notOk(await app.accounts.needsSetup())
  t.equal((await new Visitor(app).get(`/staff/setup/${token}`)).status, 404, 'the setup page is gone')
})

t.test('signing in: wrong passwords are refused, counted and eventually locked out', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const visitor = new Visitor(app)
  let page = await visitor.get('/staff')
  t.equal(page.url, '/staff/login?next=%2Fstaff', 'the panel asks for a sign-in first')
  page = await visitor.submit(page, 'form', { email: desk.agents.bob.email, password: 'wrong password' })
  t.equal(page.status, 422)
  t.match(page.$('.error-summary').text(), 'That e-mail address and password do not match.')
  t.equal(page.$('#login-email').attr('value'), desk.agents.bob.email, 'the address is kept')
  t.equal(page.$('#login-password').attr('value'), '', 'the password is not echoed back')

  for (let i = 0; i < 4; i++) page = await visitor.submit(page, 'form', { password: 'wrong password' })
  page = await visitor.submit(page, 'form', { password })
  t.equal(page.status, 429, 'after five failures even the right password waits')
  t.match(page.text, 'Too many failed sign-ins')

  const { page: other } = await signIn(app, desk.agents.ada.email)
  t.equal(other.status, 200, 'other accounts are unaffected')
})

t.test('sessions live in the database, rotate at sign-in and end at sign-out', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)

  const anonymous = new Visitor(app)
  await anonymous.get('/')
  await anonymous.get('/tickets/new')
  t.equal((await app.db('sessions')).length, 0, 'portal visitors cost no session row')

  const visitor = new Visitor(app)
  const login = await visitor.get('/staff/login')
  const res = await app.inject({
    method: 'POST',
    url: '/staff/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tessera_csrf=${visitor.cookie('tessera_csrf')}; tessera_staff=planted-session-id` },
    payload: new URLSearchParams({ _csrf: login.$('input[name=_csrf]').attr('value')!, email: desk.agents.bob.email, password }).toString()
  })
  t.equal(res.statusCode, 303)
  const cookie = res.cookies.find((c) => c.name === 'tessera_staff')!
  t.not(cookie.value, 'planted-session-id', 'a fresh session id is issued at sign-in')
  t.equal(cookie.httpOnly, true)
  t.equal(cookie.sameSite, 'Lax')
  t.equal(cookie.path, '/staff')
  t.equal((await app.db('sessions')).length, 1, 'the session is stored in the database')

  const { visitor: bob, page } = await signIn(app, desk.agents.bob.email)
  const out = await bob.submit(page, 'form.signout')
  t.match(out.text, 'You have signed out.')
  t.equal((await bob.get('/staff/queues/open')).url, '/staff/login?next=%2Fstaff%2Fqueues%2Fopen', 'the old session no longer works')
})

t.test('a forgotten password is reset through an e-mailed one-time link', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const visitor = new Visitor(app)
  const form = await visitor.get('/staff/password-reset')
  const sent = await visitor.submit(form, 'form', { email: desk.agents.bob.email })
  t.match(sent.text, 'If that address belongs to an agent')
  const unknown = await visitor.submit(form, 'form', { email: 'nobody@desk.test' })
  t.equal(unknown.text, sent.text, 'an unknown address gets the same answer')

  const [mail] = await listOutbox(app.db, { toAddress: desk.agents.bob.email })
  t.equal(mail?.template, 'password_reset')
  const token = await tokenInSentMail(app, mail!.id)
  const reset = await visitor.get(`/staff/password-reset/${token}`)
  const tooShort = await visitor.submit(reset, 'form', { password: 'short', confirm: 'short' })
  t.equal(tooShort.status, 422)
  const done = await visitor.submit(reset, 'form', { password: 'a brand new passphrase', confirm: 'a brand new passphrase' })
  t.match(done.text, 'Your password has been changed.')
  t.equal((await visitor.get(`/staff/password-reset/${token}`)).status, 404, 'the link works once')

  const login = await visitor.get('/staff/login')
  const signedIn = await visitor.submit(login, 'form', { email: desk.agents.bob.email, password: 'a brand new passphrase' })
  t.match(signedIn.url, /^\/staff\/queues\//)
})

t.test('six people opening the setup link at once make exactly one administrator', async (t) => {
  const app = await testApp(t)
  const token = await app.accounts.issueSetupToken()
  const people = await Promise.all(Array.from({ length: 6 }, async () => {
    const visitor = new Visitor(app)
    return { visitor, page: await visitor.get(`/staff/setup/${token}`) }
  }))
  const results = await Promise.all(people.map(async ({ visitor, page }, i) =>
    await visitor.submit(page, 'form', { name: `Admin ${i}`, email: `admin${i}@desk.test`, password: 'long enough pass', confirm: 'long enough pass' }, { follow: false })))
  t.same(results.map((r) => r.status).sort(), [303, 404, 404, 404, 404, 404], 'one wins, the others find the link used')
  t.equal((await app.db('agents')).length, 1, 'exactly one agent exists')
  t.match(results.find((r) => r.status === 404)?.text, 'This setup link has already been used.')
})

async function requestReset (app: FastifyInstance, email: string): Promise<string> {
  const visitor = new Visitor(app)
  await visitor.submit(await visitor.get('/staff/password-reset'), 'form', { email })
  const mails = await listOutbox(app.db, { toAddress: email })
  return await tokenInSentMail(app, mails.filter((m) => m.template === 'password_reset').at(-1)!.id)
}

t.test('using one reset link retires the others, ends every session of the agent and lifts the lockout', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const email = desk.agents.bob.email
  const { visitor: office } = await signIn(app, email)
  const { visitor: laptop } = await signIn(app, email)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  const attacker = new Visitor(app)
  let login = await attacker.get('/staff/login')
  for (let i = 0; i < 6; i++) login = await attacker.submit(login, 'form', { email, password: 'wrong password' })
  t.equal(login.status, 429, 'the account is locked')

  const older = await requestReset(app, email)
  const newer = await requestReset(app, email)
  t.not(older, newer)
  const bob = new Visitor(app)
  const form = await bob.get(`/staff/password-reset/${newer}`)
  const done = await bob.submit(form, 'form', { password: 'a brand new passphrase', confirm: 'a brand new passphrase' })
  t.match(done.text, 'Your password has been changed.')

  t.equal((await bob.get(`/staff/password-reset/${older}`)).status, 404, 'the other link no longer works')
  const olderForm = await new Visitor(app).get(`/staff/password-reset/${newer}`)
  t.equal(olderForm.status, 404, 'nor the used one')
  t.equal((await app.db('password_resets').where({ agent_id: desk.agents.bob.id }).whereNull('used_at')).length, 0, 'no link of the agent is outstanding')

  t.match((await office.get('/staff/queues/open')).url, /^\/staff\/login\?next=/, 'the session in the office has ended')
  t.match((await laptop.get('/staff/queues/open')).url, /^\/staff\/login\?next=/, 'and the one on the laptop')
  t.equal((await app.db('sessions').where({ agent_id: desk.agents.bob.id })).length, 0)
  t.equal((await ada.get('/staff/queues/open')).status, 200, 'other agents stay signed in')

  const signedIn = await bob.submit(await bob.get('/staff/login'), 'form', { email, password: 'a brand new passphrase' })
  t.match(signedIn.url, /^\/staff\/queues\//, 'the lockout is lifted: the new password works at once')
  const events = await app.db('sign_in_events').where({ email }).orderBy('id').pluck('outcome')
  t.same(events.slice(0, 5), ['succeeded', 'succeeded', 'failed', 'failed', 'failed'], 'the failures stay on record')
  t.same(events.slice(-2), ['password_reset', 'succeeded'])
})

t.test('one reset link used twice at the same moment changes the password once', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const token = await requestReset(app, desk.agents.bob.email)
  const tries = await Promise.all(['first passphrase!', 'second passphrase'].map(async (choice) => {
    const visitor = new Visitor(app)
    const form = await visitor.get(`/staff/password-reset/${token}`)
    return await visitor.submit(form, 'form', { password: choice, confirm: choice }, { follow: false })
  }))
  t.same(tries.map((r) => r.status).sort(), [303, 404])
})

t.test('the CSRF secret changes at sign-in and at sign-out', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const visitor = new Visitor(app)
  const login = await visitor.get('/staff/login')
  const before = { secret: visitor.cookie('tessera_csrf'), token: login.$('input[name=_csrf]').attr('value')! }
  const queue = await visitor.submit(login, 'form', { email: desk.agents.bob.email, password })
  t.match(queue.url, /^\/staff\/queues\//)
  t.not(visitor.cookie('tessera_csrf'), before.secret, 'a new secret at sign-in')

  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const stale = await visitor.post('/staff/logout', `_csrf=${encodeURIComponent(before.token)}`, { headers: form, follow: false })
  t.equal(stale.status, 403, 'a token from before the sign-in no longer works')
  t.match(stale.text, 'Nothing was saved')

  const signedInSecret = visitor.cookie('tessera_csrf')
  const signedInToken = queue.$('form.signout input[name=_csrf]').attr('value')!
  const out = await visitor.submit(queue, 'form.signout')
  t.match(out.text, 'You have signed out.')
  t.not(visitor.cookie('tessera_csrf'), signedInSecret, 'a new secret at sign-out')
  const again = await visitor.post('/staff/login', new URLSearchParams({ _csrf: signedInToken, email: desk.agents.bob.email, password }).toString(), { headers: form, follow: false })
  t.equal(again.status, 403, 'a token from the signed-in pages no longer works after signing out')
  t.equal(again.$('#login-email').attr('value'), desk.agents.bob.email, 'the sign-in form is shown again with the address kept')
})

t.test('a session or CSRF cookie with an altered signature is refused every time, before and after the genuine one was accepted', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const { visitor: bob, page } = await signIn(app, desk.agents.bob.email)
  const genuine = { session: decodeURIComponent(bob.cookie('tessera_staff')!), csrf: decodeURIComponent(bob.cookie('tessera_csrf')!) }
  // Another character in the signature, or another value under the genuine signature.
  const altered = (signed: string): string[] => {
    const dot = signed.lastIndexOf('.')
    const at = signed.length - 3
    return [signed.slice(0, at) + (signed[at] === 'A' ? 'B' : 'A') + signed.slice(at + 1), (signed[0] === 'x' ? 'y' : 'x') + signed.slice(1, dot) + signed.slice(dot)]
  }
  const cookieHeader = (session: string, csrf: string): string => `tessera_staff=${encodeURIComponent(session)}; tessera_csrf=${encodeURIComponent(csrf)}`
  const queue = async (session: string): Promise<number> =>
    (await app.inject({ method: 'GET', url: '/staff/queues/open', headers: { cookie: cookieHeader(session, genuine.csrf) } })).statusCode
  const signOut = async (csrf: string): Promise<number> => (await app.inject({
    method: 'POST',
    url: '/staff/logout',
    headers: { cookie: cookieHeader(genuine.session, csrf), 'content-type': 'application/x-www-form-urlencoded' },
    payload: `_csrf=${encodeURIComponent(page.$('form.signout input[name=_csrf]').attr('value')!)}`
  })).statusCode

  for (const round of ['before', 'after']) {
    t.equal(await queue(genuine.session), 200, `the genuine session cookie works (${round})`)
    for (const forged of altered(genuine.session)) t.not(await queue(forged), 200, `an altered session cookie is refused (${round})`)
    for (const forged of altered(genuine.csrf)) t.equal(await signOut(forged), 403, `an altered CSRF cookie is refused (${round})`)
  }
  t.equal(await signOut(genuine.csrf), 303, 'the genuine CSRF cookie still works')
})

/** What a crafted `next` must lead to: the staff home unless it is a page inside the panel. */
const nextCorpus: Array<[string, string]> = [
  ['/staff/queues/mine', '/staff/queues/mine'],
  ['/staff/tickets/123456?tab=history', '/staff/tickets/123456?tab=history'],
  ['/staff/%0d%0aSet-Cookie:%20x=1', '/staff/%0d%0aSet-Cookie:%20x=1'],
  ['//evil.example/staff/', '/staff'],
  ['///evil.example', '/staff'],
  ['/staff/../evil', '/staff'],
  ['/staff/%2e%2e/%2e%2e/evil', '/staff'],
  ['/staff\\..\\evil', '/staff'],
  ['/\\evil.example', '/staff'],
  ['\\\\evil.example', '/staff'],
  ['https://evil.example/staff/x', '/staff'],
  ['javascript:alert(1)', '/staff'],
  ['/staff@evil.example', '/staff'],
  ['/staffroom', '/staff'],
  ['/staff/x\nLocation: https://evil.example', '/staff'],
  ['/staff/x\r\nSet-Cookie: x=1', '/staff'],
  ['/staff/tickets/ünïcödé', '/staff'],
  ['/staff/😀', '/staff'],
  ['/staff/\u0000', '/staff'],
  ['/staff/\t/evil', '/staff'],
  [' /staff/queues/mine', '/staff'],
  ['/staff/' + 'a'.repeat(5000), '/staff'],
  ['/staff/' + 'b'.repeat(200_000), '/staff'],
  ['', '/staff']
]

t.test('next= after signing in: a page inside the panel, or the panel home; never a 500 or another site', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  for (const [i, [next, expected]] of nextCorpus.entries()) {
    const label = JSON.stringify(next.slice(0, 60))
    const visitor = new Visitor(app)
    const remoteAddress = `198.51.100.${i + 1}`
    // Longer than a request line may be: such a `next` can only come from a crafted POST.
    const page = await visitor.get(next.length > 8000 ? '/staff/login' : `/staff/login?next=${encodeURIComponent(next)}`)
    t.equal(page.status, 200, `the form shows for ${label}`)
    const res = await app.inject({
      method: 'POST',
      url: '/staff/login',
      remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tessera_csrf=${visitor.cookie('tessera_csrf')!}` },
      payload: new URLSearchParams({ _csrf: page.$('input[name=_csrf]').attr('value')!, email: desk.agents.bob.email, password, next }).toString()
    })
    t.equal(res.statusCode, 303, `signed in with ${label}`)
    t.equal(res.headers.location, expected, `and sent to ${expected}`)
    t.equal(new URL(String(res.headers.location), 'http://help.example.test').origin, 'http://help.example.test', 'never to another site')
  }
  const browser = new Visitor(app)
  const rawBytes = await browser.get('/staff/login')
  const invalidUtf8 = await app.inject({
    method: 'POST',
    url: '/staff/login',
    remoteAddress: '198.51.100.200',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tessera_csrf=${browser.cookie('tessera_csrf')!}` },
    payload: `_csrf=${encodeURIComponent(rawBytes.$('input[name=_csrf]').attr('value')!)}&email=${encodeURIComponent(desk.agents.bob.email)}&password=${encodeURIComponent(password)}&next=%2Fstaff%2F%FF%FE`
  })
  t.equal(invalidUtf8.statusCode, 303, 'a next that is not UTF-8 falls back too')
  t.equal(invalidUtf8.headers.location, '/staff')
})
