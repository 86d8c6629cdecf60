import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { testApp, testClock } from '../../helpers/app.js'
import { codeAt, passwordStep } from '../../helpers/two-factor.js'
import { password, seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

async function codeStep (visitor: Visitor, page: Page, code: string): Promise<Page> {
  return await visitor.submit(page, 'form[action="/staff/login/two-factor"]', { code })
}

/** Bob turns two-factor sign-in on; answers his secret and recovery codes. */
async function setUp (app: FastifyInstance, clock: { now: () => number }, email: string): Promise<{ secret: string, recovery: string[], visitor: Visitor }> {
  const { visitor, page: queue } = await signIn(app, email)
  let page = await visitor.get(queue.$('header a:contains("Two-factor sign-in")').attr('href')!)
  const secret = page.$('.totp-secret').text().replace(/\s/g, '')
  page = await visitor.submit(page, 'form[action="/staff/account/two-factor"]', { code: codeAt(secret, clock.now()) })
  return { secret, recovery: page.$('.recovery-codes code').map((_, el) => page.$(el).text()).get(), visitor }
}

t.test('two-factor sign-in: set up with a QR code, sign in with a code once, recovery codes once', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: bob, page: queue } = await signIn(app, desk.agents.bob.email)
  let page = await bob.get(queue.$('header a:contains("Two-factor sign-in")').attr('href')!)
  t.equal(page.status, 200)
  t.equal(page.headers['cache-control'], 'no-store', 'the secret is never cached')
  t.equal(page.$('.qr-code svg[role=img]').length, 1, 'an inline SVG QR code, no script needed')
  t.equal(page.$('script').length, 0)
  const secret = page.$('.totp-secret').text().replace(/\s/g, '')
  t.match(secret, /^[A-Z2-7]{32}$/, 'and the secret as text')
  t.equal((await bob.get('/staff/account/two-factor')).$('.totp-secret').text().replace(/\s/g, ''), secret, 'the same secret until confirmed')
  const stored = await app.db('agent_two_factor').where({ agent_id: desk.agents.bob.id }).first()
  t.notMatch(stored.secret_encrypted, secret, 'stored encrypted, not as typed into the app')

  page = await bob.submit(page, 'form[action="/staff/account/two-factor"]', { code: codeAt(secret, clock.now()) === '000000' ? '111111' : '000000' })
  t.equal(page.status, 422, 'a wrong code does not turn it on')
  t.match(page.$('#confirm-code-error').text(), 'That code is not right')
  t.equal(await app.twoFactor.isEnabled(desk.agents.bob.id), false)

  const first = codeAt(secret, clock.now())
  page = await bob.submit(page, 'form[action="/staff/account/two-factor"]', { code: first })
  t.equal(page.status, 201)
  const recovery = page.$('.recovery-codes code').map((_, el) => page.$(el).text()).get()
  t.equal(recovery.length, 10, 'ten recovery codes, shown once')
  t.equal(new Set(recovery).size, 10)
  const hashes = await app.db('agent_recovery_codes').where({ agent_id: desk.agents.bob.id }).pluck('code_hash')
  t.equal(hashes.length, 10)
  t.notOk(hashes.some((hash: string) => recovery.some((code) => hash.includes(code.replace('-', '')))), 'kept only as hashes')
  page = await bob.submit(page, 'form.signout')

  let step = await passwordStep(app, desk.agents.bob.email)
  t.equal(step.page.url, '/staff/login/two-factor', 'the password alone leads to the code form')
  t.equal((await step.visitor.get('/staff/queues/open')).url.startsWith('/staff/login'), true, 'and is not signed in yet')
  step.page = await step.visitor.get('/staff/login/two-factor')
  page = await codeStep(step.visitor, step.page, first)
  t.equal(page.status, 422, 'the code that confirmed the setup is used up')
  clock.advance(30_000)
  const second = codeAt(secret, clock.now())
  page = await codeStep(step.visitor, page, second)
  t.match(page.url, /^\/staff\/queues\//, 'the next code signs in')
  await bob.submit(page, 'form.signout')

  step = await passwordStep(app, desk.agents.bob.email)
  page = await codeStep(step.visitor, step.page, second)
  t.equal(page.status, 422, 'the same code again, within its window, is refused')
  t.match(page.$('#two-factor-code-error').text(), 'used already')
  t.equal(page.$('#two-factor-code').val(), second, 'what was typed is kept')

  page = await codeStep(step.visitor, page, recovery[0]!.toUpperCase())
  t.match(page.url, /^\/staff\/queues\//, 'a recovery code signs in')
  t.match(page.$('[role=status]').text(), '9 are left')
  await step.visitor.submit(page, 'form.signout')
  step = await passwordStep(app, desk.agents.bob.email)
  page = await codeStep(step.visitor, step.page, recovery[0]!)
  t.equal(page.status, 422, 'the same recovery code twice is refused')
})

t.test('wrong codes are limited like passwords; turning off takes the password and a code', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { secret, visitor: bob } = await setUp(app, clock, desk.agents.bob.email)
  clock.advance(30_000)

  let page = await bob.get('/staff/account/two-factor')
  page = await bob.submit(page, 'form[action="/staff/account/two-factor/removal"]', { password: 'not my password', code: codeAt(secret, clock.now()) })
  t.equal(page.status, 422)
  t.match(page.$('#disable-password-error').text(), 'That password is not right.')
  t.equal(page.$('#disable-code').val(), codeAt(secret, clock.now()), 'the code typed is kept, never the password')
  page = await bob.submit(page, 'form[action="/staff/account/two-factor/removal"]', { password, code: '' })
  t.equal(page.status, 422)
  t.match(page.$('#disable-code-error').text(), 'Enter the code')

  const step = await passwordStep(app, desk.agents.bob.email)
  page = step.page
  for (let i = 0; i < 5; i++) page = await codeStep(step.visitor, page, '12345' + String(i))
  page = await codeStep(step.visitor, page, codeAt(secret, clock.now()))
  t.equal(page.status, 429, 'after five wrong codes even the right one waits')
  t.match(page.text, 'Too many wrong codes')

  clock.advance(16 * 60_000)
  page = await bob.get('/staff/account/two-factor')
  page = await bob.submit(page, 'form[action="/staff/account/two-factor/removal"]', { password, code: codeAt(secret, clock.now()) })
  t.match(page.$('[role=status]').text(), 'Two-factor sign-in is off.')
  t.equal(await app.twoFactor.isEnabled(desk.agents.bob.id), false)
  await signIn(app, desk.agents.bob.email)
  t.pass('the password alone signs in again')
})
