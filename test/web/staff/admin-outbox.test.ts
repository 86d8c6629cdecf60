import t from 'tap'
import { listOutbox } from '../../../src/data/outbox.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { smtpServer } from '../../helpers/smtp.js'

t.test('an administrator sees failed mail, retries it and sends a test message', async (t) => {
  const smtp = await smtpServer(t)
  await smtp.stop()
  const app = await testApp(t, { SMTP_URL: smtp.url }, { startWorkers: false })
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  await app.db('outbox').update({ attempts: 7 })
  await app.outbox.runOnce()
  const [failed] = await listOutbox(app.db, { ticketId: ticket.id, toAddress: 'grace@example.com' })
  t.equal(failed!.status, 'failed', 'the mail server was down for the last attempt')

  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  let page = await ada.get('/staff/admin/outbox?status=failed')
  t.equal(page.status, 200)
  const row = page.$(`tr:has(td:first-child:contains("${failed!.id}"))`)
  t.match(row.text(), 'grace@example.com')
  t.match(row.text(), /ECONNREFUSED|connect/i, 'the error is shown')

  await smtp.start()
  page = await ada.submit(page, `form[action="/staff/admin/outbox/${failed!.id}/retry"]`)
  t.match(page.text, `Message ${failed!.id} will be sent again shortly.`)
  page = await ada.submit(page, 'form[action="/staff/admin/outbox/test"]')
  t.match(page.text, 'A test message to ada@desk.test is queued')
  await app.outbox.runOnce()
  t.ok(smtp.messages.some((m) => m.envelopeTo.includes('grace@example.com')), 'the retried message arrives')
  t.ok(smtp.messages.some((m) => m.parsed.subject === 'Tessera Help Desk test message' && m.envelopeTo.includes('ada@desk.test')), 'and the test message')

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get('/staff/admin/outbox')).status, 404, 'agents who are not administrators do not see it')
})
