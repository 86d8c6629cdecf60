import t from 'tap'
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
  t.match(done.url, /^\/staff\/queues\//, 'the new administrator is signed in')
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
