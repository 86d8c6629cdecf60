import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { putSetting } from '../../../src/data/settings.js'
import { testApp } from '../../helpers/app.js'
import { password, seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { programs, skipWithout } from '../../helpers/programs.js'
import { smtpServer } from '../../helpers/smtp.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

/** Which checklist items the page shows ticked, by step. */
function ticked (page: Page): Record<string, boolean> {
  const steps: Record<string, boolean> = {}
  page.$('.checklist li').each((_, item) => {
    const li = page.$(item)
    steps[String(li.attr('id')).replace(/^step-/, '')] = li.find('strong').text().startsWith('✓ Done')
  })
  return steps
}

/** The first administrator, created through the printed setup link as a newcomer does. */
async function firstAdmin (app: FastifyInstance): Promise<{ visitor: Visitor, page: Page }> {
  const visitor = new Visitor(app)
  const setup = await visitor.get(`/staff/setup/${await app.accounts.issueSetupToken()}`)
  const page = await visitor.submit(setup, 'form', { name: 'Ada Lovelace', email: 'ada@desk.test', password, confirm: password })
  return { visitor, page }
}

t.test('after setup the administrator lands on the checklist, and each item ticks as it is done', async (t) => {
  const smtp = await smtpServer(t)
  const app = await testApp(t, { SMTP_URL: smtp.url }, { startWorkers: false })
  const { visitor: ada, page: landing } = await firstAdmin(app)
  t.equal(landing.status, 200)
  t.equal(landing.url, '/staff/admin', 'setup ends at the checklist')
  t.match(landing.$('h2#checklist-title').text(), 'Getting started')
  t.same(ticked(landing), { deskName: false, catalog: false, agents: false, outgoingMail: true, incomingMail: false, testMail: false },
    'a fresh desk has only its SMTP_URL')
  t.match(landing.text, '1 of 6 done.')
  const links = landing.$('.checklist a').map((_, a) => landing.$(a).attr('href')).get()
  t.same(links, ['/staff/admin/settings', '/staff/admin/departments', '/staff/admin/topics', '/staff/admin/agents', '/staff/admin/outbox', '/staff/admin/departments', '/staff/admin/outbox'],
    'each item links to the page where it is done')

  await putSetting(app.db, 'desk.name', 'Northwind Help')
  let page = await ada.get('/staff/admin')
  t.ok(ticked(page).deskName, 'naming the desk ticks its item')

  page = await ada.submit(page, 'form[action="/staff/admin/catalog-review"]')
  t.equal(page.url, '/staff/admin')
  t.match(page.text, 'Departments and help topics are ticked off')
  t.ok(ticked(page).catalog, '"They look right as they are" ticks departments and topics')
  t.equal(page.$('form[action="/staff/admin/catalog-review"]').length, 0, 'and the button goes away')
  const log = await ada.get('/staff/admin/log')
  t.match(log.text, 'reviewed', 'the review is in the admin log like any change')
  const reviews = await app.db('admin_events').where({ action: 'reviewed' }).count({ n: '*' })
  t.equal(Number(reviews[0]?.n), 2, 'one row for departments, one for help topics')

  await app.accounts.inviteAgent({ name: 'Bob Kahn', email: 'bob@desk.test', isAdmin: false })
  page = await ada.get('/staff/admin')
  t.ok(ticked(page).agents, 'inviting a colleague ticks "Invite agents"')

  const support = await app.db('departments').where({ name: 'Support' }).first('id')
  await app.db('department_addresses').insert({ department_id: support.id, address: 'help@desk.test' })
  page = await ada.get('/staff/admin')
  t.ok(ticked(page).incomingMail, 'a department address ticks incoming mail')

  const outbox = await ada.get('/staff/admin/outbox')
  await ada.submit(outbox, 'form[action="/staff/admin/outbox/test"]')
  page = await ada.get('/staff/admin')
  t.notOk(ticked(page).testMail, 'a test message that is only queued does not count')
  await app.outbox.runOnce()
  t.ok(smtp.messages.some((m) => m.parsed.subject === 'Tessera Help Desk test message'), 'the test message went out')
  page = await ada.get('/staff/admin')
  t.ok(ticked(page).testMail, 'once sent, it ticks "Send a test mail"')
  t.match(page.text, '6 of 6 done. The desk is set up')
  const finished = page

  // The checklist is one query, whatever the desk holds.
  const checklistQueries: string[] = []
  const count = (query: { sql: string }): void => { if (/department_addresses|admin_events|test_message/.test(query.sql)) checklistQueries.push(query.sql) }
  app.db.on('query', count)
  await ada.get('/staff/admin')
  app.db.off('query', count)
  t.equal(checklistQueries.length, 1, 'every item is read by one query')

  await t.test('both states of the page are valid HTML', { skip: skipWithout(programs.java) }, async (t) => {
    await assertValidDocuments(t, { 'checklist, nothing done': landing.html, 'checklist, all done': finished.html })
  })
})

t.test('IMAP_URL ticks incoming mail; without SMTP_URL outgoing mail stays to do', async (t) => {
  const app = await testApp(t, { IMAP_URL: 'imap://desk%40example.test:secret@127.0.0.1:1' }, { startWorkers: false })
  const { page } = await firstAdmin(app)
  t.same(ticked(page), { deskName: false, catalog: false, agents: false, outgoingMail: false, incomingMail: true, testMail: false })
})

t.test('the checklist and its button exist for administrators only', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const adminPage = await ada.get('/staff/admin')
  const { visitor: mel } = await signIn(app, desk.agents.mel.email)
  t.equal((await mel.get('/staff/admin')).status, 404, 'a manager gets 404')
  const forged = await mel.post('/staff/admin/catalog-review', new URLSearchParams({ _csrf: adminPage.$('input[name="_csrf"]').attr('value') ?? '' }).toString(),
    { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(forged.status, 404, 'and so does their POST')
  t.equal(Number((await app.db('admin_events').count({ n: '*' }))[0]?.n), 0, 'which records nothing')
})
