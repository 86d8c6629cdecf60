import t from 'tap'
import { Visitor } from '../../helpers/visitor.js'
import { sharedApps, testApp, testClock } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'

t.test('renaming the desk and writing an intro shows on the portal home, in page titles and in mail at once', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const visitor = new Visitor(app)
  const before = await visitor.get('/')
  t.match(before.$('title').text(), 'Tessera Help Desk', 'the built-in name until the desk is named')

  let page = await ada.get('/staff/admin/settings')
  t.equal(page.$('#settings-reopenDays').attr('value'), '14', 'the reopen window shows the environment default')
  page = await ada.submit(page, 'form[action="/staff/admin/settings"]', {
    name: 'Acme Support', intro: 'We answer within a day.\r\n\r\nUrgent? Call us.', siteUrl: 'https://www.acme.test/'
  })
  t.equal(page.url, '/staff/admin/settings')
  t.match(page.text, 'Settings saved.')
  t.match(page.$('title').text(), 'Acme Support', 'the staff pages carry the new name')
  t.ok(await app.db('settings').where({ key: 'desk.name', value: 'Acme Support' }).first(), 'stored as desk.name, which the first-run checklist reads')

  const home = await visitor.get('/')
  t.match(home.$('title').text(), 'Acme Support', 'the cached portal home is rendered again at once')
  t.same(home.$('.intro p').map((_, p) => home.$(p).text()).get(), ['We answer within a day.', 'Urgent? Call us.'], 'the intro, paragraph by paragraph')
  t.equal(home.$('a.site-link').attr('href'), 'https://www.acme.test/', 'the link to the desk’s own site')
  t.match((await visitor.get('/tickets/new')).$('title').text(), 'Acme Support', 'the cached new-ticket form too')

  await app.outboxAdmin.queueTestMessage({ id: desk.agents.ada.id, name: 'Ada', email: 'ada@desk.test', isAdmin: true, roles: {}, teamIds: [] })
  await app.outbox.runOnce()
  const row = await app.db('outbox').where({ template: 'test_message' }).first('id')
  const { readFileSync } = await import('node:fs')
  const eml = readFileSync(`${app.config.dataDir}/mail/${row.id as number}.eml`, 'utf8')
  t.match(eml, /Subject: Acme Support test message/, 'mail subjects carry the name')
  t.match(eml, /This is a test message from Acme Support/, 'and so do mail texts')

  const log = await ada.get('/staff/admin/log?subject=setting')
  t.match(log.$('tbody tr').first().text(), /Settings[\s\S]*changed[\s\S]*Tessera Help Desk → Acme Support/, 'the change is in the admin log with before and after')

  page = await ada.get('/staff/admin/settings')
  page = await ada.submit(page, 'form[action="/staff/admin/settings"]')
  t.match(page.text, 'Nothing had changed.', 'saving unchanged settings is calm')
  t.equal((await ada.get('/staff/admin/log?subject=setting')).$('tbody tr').length, 1, 'and logs nothing')
})

t.test('bad settings get 422 with the text kept and each message beside its field', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const form = 'form[action="/staff/admin/settings"]'
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ name: '   ' }, 'name', /Enter a name/],
    [{ name: 'x'.repeat(121) }, 'name', /120 characters or fewer/],
    [{ intro: 'y'.repeat(1001) }, 'intro', /1000 characters or fewer/],
    [{ siteUrl: 'javascript:alert(1)' }, 'siteUrl', /https:\/\//],
    [{ siteUrl: 'ftp://files.acme.test' }, 'siteUrl', /https:\/\//],
    [{ reopenDays: '-1' }, 'reopenDays', /0 to 365/],
    [{ reopenDays: '366' }, 'reopenDays', /0 to 365/],
    [{ ticketsPerHour: '0' }, 'ticketsPerHour', /1 to 10000/],
    [{ signInsPer15Minutes: 'lots' }, 'signInsPer15Minutes', /1 to 10000/],
    [{ ticketsPerHour: '9'.repeat(40) }, 'ticketsPerHour', /12 characters or fewer/],
    [{ name: 'Acme\u0000Desk' }, 'name', /control characters/]
  ]
  for (const [fields, field, message] of cases) {
    const page = await ada.submit(await ada.get('/staff/admin/settings'), form, { name: 'Kept name <b>', ...fields })
    t.equal(page.status, 422, `${JSON.stringify(fields).slice(0, 60)} is refused`)
    t.match(page.$(`#settings-${field}-error`).text(), message)
    if (field !== 'name') t.equal(page.$('#settings-name').attr('value'), 'Kept name <b>', 'what was typed stays')
  }
  const malformed = await ada.post('/staff/admin/settings', 'name[]=1&name[]=2&_csrf=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.ok(malformed.status >= 400 && malformed.status < 500, 'a malformed body is no 500')
  t.notOk(await app.db('settings').where({ key: 'desk.name' }).first(), 'nothing was saved')
})

t.test('the reopen window and the rate limits come from the settings', async (t) => {
  const clock = testClock()
  const app = await testApp(t, { REOPEN_WINDOW_DAYS: '14' }, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.submit(await ada.get('/staff/admin/settings'), 'form[action="/staff/admin/settings"]', { reopenDays: '1', ticketsPerHour: '1' })
  t.match(page.text, 'Settings saved.')

  const ticket = await openTicket(app, desk.topics.broken)
  const row = await app.db('tickets').where({ id: ticket.id }).first()
  t.ok(await app.lifecycle.replyReopens({ ...row, status: 'closed', closed_at: clock.now() - 12 * 3600_000 }), 'closed 12 hours ago: within a one-day window')
  t.notOk(await app.lifecycle.replyReopens({ ...row, status: 'closed', closed_at: clock.now() - 2 * 86400_000 }), 'closed two days ago: outside it, though the environment says 14')

  const visitor = new Visitor(app)
  const fill = { name: 'Grace Hopper', email: 'grace@example.com', subject: 'Jam', message: 'Jams.' }
  const first = await visitor.submit(await visitor.get('/tickets/new'), 'form[action="/tickets"]', { ...fill, topic: String(desk.topics.broken) })
  t.equal(first.status, 200, 'the first ticket of the hour is opened')
  const second = await visitor.submit(await visitor.get('/tickets/new'), 'form[action="/tickets"]', { ...fill, topic: String(desk.topics.broken) })
  t.equal(second.status, 429, 'the second is refused: the limit is one per hour now')
  t.match(second.$('textarea[name="message"]').text(), 'Jams.', 'with the text kept')
})

t.test('the sign-in rate limit comes from the settings', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  await app.db('settings').insert({ key: 'limits.sign_in_per_15min', value: '2' })
  const visitor = new Visitor(app)
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) {
    const page = await visitor.submit(await visitor.get('/staff/login'), 'form[action="/staff/login"]', { email: desk.agents.bob.email, password: 'wrong' }, { follow: false })
    statuses.push(page.status)
  }
  t.same(statuses, [422, 422, 429], 'the third attempt from the address is refused')
})

t.test('another instance reads the settings again once its short cache has expired, in one query', async (t) => {
  const [one, two] = await sharedApps(t, 2, {}, { startWorkers: false })
  const desk = await seedDesk(one!)
  const before = await two!.deskSettings.current()
  t.equal(before, await two!.deskSettings.current(), 'the same object while nothing changed')
  const queries: string[] = []
  const listen = (query: { sql: string }): void => { queries.push(query.sql) }
  const { visitor: ada } = await signIn(one!, desk.agents.ada.email)
  await ada.submit(await ada.get('/staff/admin/settings'), 'form[action="/staff/admin/settings"]', { name: 'Acme Support' })
  t.equal((await two!.deskSettings.current()).name, 'Tessera Help Desk', 'the other instance still has its cached copy')
  // What the TTL does after 5 s, done by hand so the test never waits.
  two!.deskSettings.forget()
  two!.db.on('query', listen)
  const after = await two!.deskSettings.current()
  two!.db.off('query', listen)
  t.equal(after.name, 'Acme Support', 'then it reads the new name')
  t.equal(queries.filter((sql) => /settings/.test(sql)).length, 1, 'all settings in one query')
  two!.deskSettings.forget()
  t.equal(await two!.deskSettings.current(), after, 'unchanged values keep the same object, so cached pages stay')
})
