import t from 'tap'
import { recordAdminChange } from '../../../src/domain/admin-log.js'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'

t.test('the admin log lists each change with who, what and before/after, filtered and paged', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  let page = await ada.get('/staff/admin/outbox')
  page = await ada.submit(page, 'form[action="/staff/admin/outbox/test"]')
  await app.db.transaction(async (trx) => {
    for (let i = 1; i <= 55; i++) {
      await recordAdminChange(trx, { id: desk.agents.ada.id }, { subject: 'department', subjectId: 7, action: 'renamed', before: { name: `Dept ${i - 1}` }, after: { name: `Dept ${i}` } }, 1_000 + i)
    }
  })

  page = await ada.get('/staff/admin/log')
  t.equal(page.status, 200)
  const rows = page.$('tbody tr')
  t.equal(rows.length, 50, 'one page of 50')
  t.match(rows.first().text(), /Ada[\s\S]*Departments #7[\s\S]*renamed[\s\S]*Dept 54 → Dept 55/, 'newest first, with before and after')
  const older = await ada.get(page.$('a:contains("Older changes")').attr('href')!)
  const olderRows = older.$('tbody tr')
  t.equal(olderRows.length, 6, 'the rest on the next page')
  t.match(olderRows.last().text(), /Outbox[\s\S]*test queued[\s\S]*ada@desk\.test/, 'the test message queued from the outbox page is logged too')

  const filtered = await ada.get('/staff/admin/log?subject=outbox')
  t.equal(filtered.$('tbody tr').length, 1, 'filtered by what changed')
  t.equal((await ada.get(`/staff/admin/log?agent=${desk.agents.bob.id}`)).$('tbody tr td').first().text(), 'No changes recorded that match.')
  t.equal((await ada.get('/staff/admin/log?subject=constructor&agent=x&before=-1')).status, 200, 'malformed filters are ignored')

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get('/staff/admin/log')).status, 404, 'not for agents who are not administrators')
  t.equal((await bob.get('/staff/admin')).status, 404)
})
