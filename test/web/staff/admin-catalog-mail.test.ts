import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { apiKey, mailEnv, plainMessage, postMail } from '../../helpers/mail.js'
import { smtpServer } from '../../helpers/smtp.js'

t.test('mail to an address added on the department page opens a ticket in that department; mail about it goes out as the department', async (t) => {
  const smtp = await smtpServer(t)
  const app = await testApp(t, { ...mailEnv, SMTP_URL: smtp.url }, { startWorkers: false })
  const desk = await seedDesk(app)
  const key = await apiKey(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  let page = await ada.submit(await ada.get('/staff/admin/departments'), 'form[action="/staff/admin/departments"]', {
    name: 'Hardware', defaultPriority: '3', senderName: 'Hardware "Desk", Northwind', senderAddress: 'hardware@desk.test'
  })
  const hardware = (await app.db('departments').where({ name: 'Hardware' }).first('id')).id as number
  page = await ada.submit(page, 'form[action$="/addresses"]', { address: 'Devices@Desk.Test' })
  t.equal(page.status, 200)

  // No help topic of its own, so the mail is filed under the first topic, which sets no priority.
  await app.db('help_topics').update({ default_priority: null })
  const answer = await postMail(app, plainMessage({ To: 'Devices <devices@desk.test>', Subject: 'Laptop will not boot', 'Message-ID': '<boot.1@example.com>' }), key)
  t.equal(answer.body.outcome, 'ticket')
  const ticket = await app.db('tickets').where({ number: answer.body.ticketNumber }).first('id', 'department_id', 'priority')
  t.equal(ticket.department_id, hardware, 'filed in the department the address belongs to')
  t.equal(ticket.priority, 3, 'with the department’s default priority')

  await app.outbox.runOnce()
  const received = smtp.messages.find((m) => m.parsed.subject?.includes('We received your request'))
  t.ok(received, 'the requester is told')
  t.same(received!.parsed.from?.value, [{ address: 'hardware@desk.test', name: 'Hardware "Desk", Northwind' }], 'from the department’s sender')

  const elsewhere = await openTicket(app, desk.topics.broken, 'Printer jams')
  await app.outbox.runOnce()
  const other = smtp.messages.find((m) => m.parsed.subject?.includes(`#${elsewhere.number}`))
  t.same(other!.parsed.from?.value, [{ address: 'help@desk.test', name: 'Tessera Help Desk' }], 'a department without a sender uses MAIL_FROM')

  const loop = await postMail(app, plainMessage({ From: 'Hardware <hardware@desk.test>', To: 'devices@desk.test', 'Message-ID': '<loop.1@desk.test>' }), key)
  t.same(loop.body, { outcome: 'ignored', reason: 'sent by this desk (loop)' }, 'mail from a department’s own sender is ours coming back')

  page = await ada.submit(await ada.get(`/staff/admin/departments/${hardware}`), 'form[action$="/archival"]')
  const archived = await postMail(app, plainMessage({ To: 'devices@desk.test', Subject: 'Mouse is broken', 'Message-ID': '<mouse.1@example.com>' }), key)
  const filed = await app.db('tickets').where({ number: archived.body.ticketNumber }).first('department_id')
  t.equal(filed.department_id, desk.departments.support, 'an archived department’s address opens nothing there: the first help topic’s department takes it')
})
