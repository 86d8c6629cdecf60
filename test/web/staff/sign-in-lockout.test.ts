import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../../src/config.js'
import { createDatabase, migrateToLatest } from '../../../src/data/database.js'
import { freshDatabaseUrl, sharedApps, testApp, testClock, testFolder } from '../../helpers/app.js'
import { password, seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor } from '../../helpers/visitor.js'

interface LoginForm { cookie: string, csrf: string }

/** The sign-in form as one browser got it: its CSRF cookie and token, reusable for many posts. */
async function loginForm (app: FastifyInstance): Promise<LoginForm> {
  const visitor = new Visitor(app)
  const page = await visitor.get('/staff/login')
  return { cookie: `tessera_csrf=${visitor.cookie('tessera_csrf')!}`, csrf: page.$('input[name=_csrf]').attr('value')! }
}

async function attempt (app: FastifyInstance, form: LoginForm, email: string, typed: string, remoteAddress = '127.0.0.1') {
  return await app.inject({
    method: 'POST',
    url: '/staff/login',
    remoteAddress,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
    payload: new URLSearchParams({ _csrf: form.csrf, email, password: typed }).toString()
  })
}

async function outcomes (app: FastifyInstance, email: string): Promise<Record<string, number>> {
  const rows: Array<{ outcome: string, n: number | string }> = await app.db('sign_in_events').where({ email }).groupBy('outcome').select('outcome').count({ n: '*' })
  return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]))
}

t.test('28 parallel sign-ins on two instances (27 wrong, then the right one) get at most 5 password checks', async (t) => {
  const [first, second] = await sharedApps(t, 2)
  const desk = await seedDesk(first!)
  const email = desk.agents.bob.email
  const forms = [await loginForm(first!), await loginForm(second!)]

  const responses = await Promise.all(Array.from({ length: 28 }, async (_, i) => {
    const instance = i % 2
    return await attempt(instance === 0 ? first! : second!, forms[instance]!, email, i < 27 ? 'wrong password' : password)
  }))
  const statuses = responses.map((r) => r.statusCode)
  t.same([...new Set(statuses)].sort(), [422, 429], 'every attempt is refused: wrong (422) or locked out (429)')
  t.equal(responses[27]!.statusCode, 429, 'the right password, arriving last, waits too')

  const seen = await outcomes(first!, email)
  t.ok((seen.failed ?? 0) + (seen.succeeded ?? 0) <= 5, `at most 5 password checks (${JSON.stringify(seen)})`)
  t.equal(seen.failed, statuses.filter((s) => s === 422).length, 'each checked attempt is one failure event')
  t.equal(seen.locked, statuses.filter((s) => s === 429).length, 'each refused attempt is recorded as locked')

  const afterwards = await attempt(second!, forms[1]!, email, password)
  t.equal(afterwards.statusCode, 429, 'the right password afterwards is refused while locked')
  t.match(afterwards.body, 'Too many failed sign-ins')
  t.equal(afterwards.cookies.find((c) => c.name === 'tessera_staff'), undefined, 'and no session is made')
})

t.test('the lockout ends 15 minutes after the last counted failure, and a success erases no history', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { now: clock.now })
  const desk = await seedDesk(app)
  const email = desk.agents.bob.email
  const form = await loginForm(app)

  for (let i = 0; i < 5; i++) t.equal((await attempt(app, form, email, 'wrong password')).statusCode, 422)
  clock.advance(14 * 60_000)
  t.equal((await attempt(app, form, email, password)).statusCode, 429, 'still locked after 14 minutes')
  clock.advance(60_000 + 1)
  t.equal((await attempt(app, form, email, password)).statusCode, 303, 'the right password works once the window has passed')
  t.same(await outcomes(app, email), { failed: 5, locked: 1, succeeded: 1 }, 'the failures are still on record after the success')

  const { visitor } = await signIn(app, desk.agents.ada.email)
  const history = await visitor.get('/staff/admin/sign-ins')
  t.equal(history.status, 200)
  const rows = history.$('tbody tr').toArray().map((row) => history.$(row).text().replace(/\s+/g, ' ').trim())
  t.equal(rows.filter((r) => r.includes(email) && r.includes('Wrong password')).length, 5, 'the administrator reads the five failures')
  t.ok(rows.some((r) => r.includes(email) && r.includes('Refused: too many failures') && r.includes('127.0.0.1')), 'with the refusal and the address it came from')
  t.ok(rows.some((r) => r.includes(email) && r.includes('Signed in')))
  t.ok(history.$('nav a[href="/staff/admin/sign-ins"]').length === 1, 'the page is linked from the navigation')

  const { visitor: bob } = await signIn(app, email)
  t.equal((await bob.get('/staff/admin/sign-ins')).status, 404, 'for anyone else the page does not exist')
})

t.test('one address gets 20 failed checks across accounts, then waits', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const form = await loginForm(app)
  const results = await Promise.all(Array.from({ length: 25 }, async (_, i) =>
    (await attempt(app, form, `nobody${i}@desk.test`, 'wrong password', '203.0.113.7')).statusCode))
  t.equal(results.filter((s) => s === 422).length, 20, 'twenty checks')
  t.equal(results.filter((s) => s === 429).length, 5, 'then refused')
  t.equal((await attempt(app, form, desk.agents.bob.email, password, '203.0.113.7')).statusCode, 429, 'even for a right password from that address')
  t.equal((await attempt(app, form, desk.agents.bob.email, password, '203.0.113.8')).statusCode, 303, 'another address is unaffected')
})

t.test('a sign-in address is read in one form: capitals make no second account to guess at', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const form = await loginForm(app)
  for (let i = 0; i < 5; i++) t.equal((await attempt(app, form, i % 2 === 0 ? 'BOB@Desk.Test' : desk.agents.bob.email, 'wrong password')).statusCode, 422)
  t.equal((await attempt(app, form, 'Bob@desk.test', password)).statusCode, 429, 'all five counted against one account')
})

t.test('failures counted before this version become sign-in events', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: await freshDatabaseUrl(t) }))
  t.teardown(async () => { await db.destroy() })
  // Up to the migration that creates sign_in_events, not the one that fills it.
  while (true) {
    const [done] = await db.migrate.list() as [Array<{ name: string } | string>, unknown[]]
    if (done.map((m) => typeof m === 'string' ? m : m.name).includes('20261130100200_sign_in_throttle')) break
    await db.migrate.up()
  }
  const [row] = await db('agents').insert({ name: 'Bob Kahn', email: 'bob@desk.test', is_admin: false, active: true, created_at: 1 }).returning('id')
  const bobId = typeof row === 'object' ? row.id : row
  await db('login_failures').insert([
    { subject: 'account:bob@desk.test', created_at: 1000 },
    { subject: 'address:192.0.2.1', created_at: 1000 },
    { subject: 'account:nobody@desk.test', created_at: 2000 }
  ])
  await migrateToLatest(db)
  const events = await db('sign_in_events').orderBy('created_at').select('email', 'agent_id', 'outcome', 'created_at')
  t.same(events.map((e) => ({ ...e, created_at: Number(e.created_at) })), [
    { email: 'bob@desk.test', agent_id: bobId, outcome: 'failed', created_at: 1000 },
    { email: 'nobody@desk.test', agent_id: null, outcome: 'failed', created_at: 2000 }
  ])
  t.notOk(await db.schema.hasTable('login_failures'), 'the old table is gone')
})
