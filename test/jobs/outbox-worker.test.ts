import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { listOutbox } from '../../src/data/outbox.js'
import { sharedApps, testApp, testClock } from '../helpers/app.js'
import { smtpServer } from '../helpers/smtp.js'
import { Visitor } from '../helpers/visitor.js'

const ticket = { name: 'Grace Hopper', email: 'grace@example.com', subject: 'Printer jams', message: 'It jams.', helpTopicId: 1 }

t.test('the HTML part shows what people typed as text, never as markup', async (t) => {
  const smtp = await smtpServer(t)
  const app = await testApp(t, { SMTP_URL: smtp.url }, { startWorkers: false })
  await app.lifecycle.openTicket({ ...ticket, name: 'Grace <b>Hopper</b>', subject: 'Printer <script>alert(1)</script>' })
  await app.outbox.runOnce()
  const html = String(smtp.messages[0]!.parsed.html)
  t.match(html, 'Grace &lt;b&gt;Hopper&lt;/b&gt;')
  t.notMatch(html, '<script>', 'no markup from the ticket reaches the HTML part')
})

t.test('a queued notice reaches the SMTP server with a link that opens the ticket', async (t) => {
  const smtp = await smtpServer(t)
  const app = await testApp(t, { SMTP_URL: smtp.url, MAIL_FROM: 'Help <help@desk.test>' }, { startWorkers: false })
  const opened = await app.lifecycle.openTicket(ticket)
  t.equal(await app.outbox.runOnce(), 1)

  t.equal(smtp.messages.length, 1)
  const [mail] = smtp.messages
  t.same(mail!.envelopeTo, ['grace@example.com'])
  t.equal(mail!.parsed.subject, `[#${opened.ticket.number}] We received your request: Printer jams`)
  t.equal(mail!.parsed.headers.get('auto-submitted'), 'auto-generated')
  t.match(mail!.parsed.from?.text, 'help@desk.test')
  const link = /http:\/\/help\.example\.test(\/tickets\/\d+\/access\/\S+)/.exec(mail!.parsed.text ?? '')?.[1]
  t.ok(link, 'the mail carries the private link')
  const page = await new Visitor(app).get(link!)
  t.equal(page.status, 200)
  t.match(page.text, 'Printer jams', 'and the link opens the ticket')

  t.match(String(mail!.parsed.html), `<a href="http://help.example.test${link!}">`, 'the HTML part links the same page')

  const [row] = await listOutbox(app.db, { ticketId: opened.ticket.id })
  t.equal(row!.status, 'sent')
  t.equal(await app.outbox.runOnce(), 0, 'nothing is sent twice')
})

t.test('while the mail server is down messages wait, then arrive exactly once', async (t) => {
  const clock = testClock()
  const smtp = await smtpServer(t)
  const app = await testApp(t, { SMTP_URL: smtp.url }, { startWorkers: false, now: clock.now })
  await smtp.stop()
  const opened = await app.lifecycle.openTicket(ticket)

  t.equal(await app.outbox.runOnce(), 0)
  let [row] = await listOutbox(app.db, { ticketId: opened.ticket.id })
  t.equal(row!.status, 'queued', 'the message is kept')
  t.equal(row!.attempts, 1)
  t.ok(row!.last_error, 'with the error recorded')
  t.ok(row!.next_attempt_at > clock.now(), 'and a later retry planned')

  await smtp.start()
  t.equal(await app.outbox.runOnce(), 0, 'not retried before its time')
  clock.advance(60_000)
  t.equal(await app.outbox.runOnce(), 1)
  clock.advance(60 * 60_000)
  t.equal(await app.outbox.runOnce(), 0)
  t.equal(smtp.messages.length, 1, 'delivered exactly once');
  [row] = await listOutbox(app.db, { ticketId: opened.ticket.id })
  t.equal(row!.status, 'sent')
})

t.test('after the last attempt a message is marked failed, never dropped', async (t) => {
  const clock = testClock()
  const app = await testApp(t, { SMTP_URL: 'smtp://127.0.0.1:1' }, { startWorkers: false, now: clock.now })
  const opened = await app.lifecycle.openTicket(ticket)
  for (let i = 0; i < 8; i++) {
    await app.outbox.runOnce()
    clock.advance(7 * 60 * 60_000)
  }
  const [row] = await listOutbox(app.db, { ticketId: opened.ticket.id })
  t.equal(row!.status, 'failed')
  t.equal(row!.attempts, 8)
})

t.test('two instances on one database deliver every message exactly once', async (t) => {
  const smtp = await smtpServer(t)
  const [first, second] = await sharedApps(t, 2, { SMTP_URL: smtp.url }, { startWorkers: false })
  for (let i = 0; i < 30; i++) await first!.lifecycle.openTicket({ ...ticket, subject: `Ticket ${i}` })
  let sent = 0
  for (let round = 0; round < 3; round++) {
    const counts = await Promise.all([first!.outbox.runOnce(), second!.outbox.runOnce(), first!.outbox.runOnce(), second!.outbox.runOnce()])
    sent += counts.reduce((a, b) => a + b, 0)
  }
  t.equal(sent, 30)
  t.equal(smtp.messages.length, 30)
  t.equal(new Set(smtp.messages.map((m) => m.parsed.subject)).size, 30, 'no message arrived twice')
  t.same([...new Set((await listOutbox(first!.db)).map((row) => row.status))], ['sent'])
})

t.test('without SMTP, mail is written as .eml files in the data folder', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const opened = await app.lifecycle.openTicket(ticket)
  t.equal(await app.outbox.runOnce(), 1)
  const dir = join(app.config.dataDir, 'mail')
  const files = readdirSync(dir)
  t.equal(files.length, 1)
  const eml = readFileSync(join(dir, files[0]!), 'utf8')
  t.match(eml, `Subject: [#${opened.ticket.number}] We received your request: Printer jams`)
  t.match(eml, 'To: grace@example.com')
})
