import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'

t.test('managers and plain agents find no canned-response, notice, settings or API-key page, and no POST there does anything', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const cannedId = (await app.db('canned_responses').first('id')).id as number
  const gets = ['/staff/admin/canned', `/staff/admin/canned/${cannedId}`, '/staff/admin/notices', '/staff/admin/settings', '/staff/admin/api-keys']
  const posts: Array<[string, Record<string, string>]> = [
    ['/staff/admin/canned', { title: 'Sneaky', body: 'Sneaky' }],
    [`/staff/admin/canned/${cannedId}`, { title: 'Sneaky', body: 'Sneaky' }],
    [`/staff/admin/canned/${cannedId}/deletion`, {}],
    ['/staff/admin/notices/new_ticket', { enabled: 'off' }],
    ['/staff/admin/settings', { name: 'Sneaky', intro: '', siteUrl: '', reopenDays: '1', ticketsPerHour: '1', signInsPer15Minutes: '1' }],
    ['/staff/admin/api-keys', { name: 'Sneaky', scope: 'mail_intake' }],
    ['/staff/admin/api-keys/1/revocation', {}]
  ]
  for (const who of ['mel', 'bob'] as const) {
    const { visitor, page } = await signIn(app, desk.agents[who].email)
    const csrf = page.$('input[name="_csrf"]').first().attr('value')!
    for (const url of gets) t.equal((await visitor.get(url)).status, 404, `${who}: GET ${url}`)
    for (const [url, body] of posts) {
      const answer = await visitor.post(url, new URLSearchParams({ _csrf: csrf, ...body }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, follow: false })
      t.equal(answer.status, 404, `${who}: POST ${url}`)
    }
  }
  t.equal(Number((await app.db('admin_events').count({ n: '*' }).first())?.n), 0, 'nothing changed')
  t.notOk(await app.db('settings').where({ key: 'desk.name' }).first())
  t.equal(Number((await app.db('api_keys').count({ n: '*' }).first())?.n), 0)
  t.ok(await app.db('canned_responses').where({ id: cannedId }).first())
})
