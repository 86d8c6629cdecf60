import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { dialectOfDb } from '../../src/data/database.js'
import { listOutbox } from '../../src/data/outbox.js'
import { createOutboxWorker, type OutboxWorker } from '../../src/jobs/outbox-worker.js'
import { asAgent, ticketRow } from '../helpers/actors.js'
import { sharedApps, testApp, testClock } from '../helpers/app.js'
import { seedDesk } from '../helpers/fixtures.js'
import { smtpServer, type Received } from '../helpers/smtp.js'
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
  t.equal(statSync(join(dir, files[0]!)).mode & 0o777, 0o600, 'the file, which holds a private link, is readable by the desk alone')
  t.equal(statSync(dir).mode & 0o777, 0o700)
})

/** Every string any column of any table holds. */
async function everythingStored (app: FastifyInstance): Promise<string[]> {
  const db = app.db
  const tables: string[] = dialectOfDb(db) === 'sqlite'
    ? (await db('sqlite_master').where({ type: 'table' }).select('name')).map((row: { name: string }) => row.name)
    : (await db.raw(dialectOfDb(db) === 'postgres'
        ? 'select table_name as name from information_schema.tables where table_schema = current_schema()'
        : 'select table_name as name from information_schema.tables where table_schema = database()')
      ).rows?.map((row: { name: string }) => row.name) ?? []
  const values: string[] = []
  for (const table of tables) {
    for (const row of await db(table).select('*')) {
      for (const value of Object.values(row as Record<string, unknown>)) {
        if (value !== null && value !== undefined) values.push(Buffer.isBuffer(value) ? value.toString('latin1') : String(value))
      }
    }
  }
  return values
}

/** Strings shaped like our tokens (43 base64url characters, standing alone) inside some text. */
function tokenShaped (text: string): string[] {
  return (text.match(/[A-Za-z0-9_-]+/g) ?? []).filter((word) => word.length === 43)
}

function linkIn (mail: Received): string | undefined {
  return /http:\/\/help\.example\.test(\/(?:tickets\/\d+\/access|staff\/password-reset)\/[A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '')?.[1]
}

t.test('no table keeps a token that opens a ticket or sets a password; only the mail carries it', async (t) => {
  const clock = testClock()
  const smtp = await smtpServer(t)
  const app = await testApp(t, { SMTP_URL: smtp.url }, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const opened = await app.lifecycle.openTicket(ticket)
  const bob = await asAgent(app, desk.agents.bob.id)
  await app.lifecycle.addResponse(opened.ticket, bob, { body: 'Try the other tray.' })
  await app.lifecycle.resolveTicket(await ticketRow(app, opened.ticket.id), bob)
  await app.lifecycle.sendAccessLink(ticket.email, opened.ticket.number)
  await app.accounts.requestPasswordReset(desk.agents.vic.email)
  await app.accounts.inviteAgent({ name: 'Nia New', email: 'nia@desk.test', isAdmin: false })

  // A first attempt fails: the retry must not need anything kept from it.
  await smtp.stop()
  await app.outbox.runOnce()
  await smtp.start()
  clock.advance(60_000)
  await app.outbox.runOnce()

  const linked = smtp.messages.filter((mail) => linkIn(mail) !== undefined)
  t.same(linked.map((mail) => mail.parsed.subject?.replace(/^\[#\d+\] /, '')).sort(), [
    'Reset your Tessera Help Desk password',
    'Resolved: Printer jams',
    'We received your request: Printer jams',
    'You are invited to the Tessera Help Desk staff panel',
    `Your link to ticket ${opened.ticket.number}`,
    'Printer jams'
  ].sort(), 'every notice that needs a link was sent with one')
  for (const mail of linked) {
    const page = await new Visitor(app).get(linkIn(mail)!)
    t.equal(page.status, 200, `the link in "${mail.parsed.subject}" opens its page`)
  }

  const candidates = new Set((await everythingStored(app)).flatMap(tokenShaped))
  const opening: string[] = []
  for (const candidate of candidates) {
    if ((await new Visitor(app).get(`/tickets/${opened.ticket.number}/access/${candidate}`)).status === 200) opening.push(candidate)
    if ((await new Visitor(app).get(`/staff/password-reset/${candidate}`)).status === 200) opening.push(candidate)
  }
  t.same(opening, [], 'nothing stored opens the ticket or a password page')
  t.notMatch(JSON.stringify(await listOutbox(app.db)), /"token"/, 'and no outbox payload names a token')
})

/** A worker of our own on an app's database, with a short lease so a test can outlast it. */
function shortLeaseWorker (app: FastifyInstance, smtpUrl: string, leaseMs: number, now?: () => number): OutboxWorker {
  const worker = createOutboxWorker({
    db: app.db,
    log: app.log,
    compose: { absoluteUrl: app.absoluteUrl, productName: 'Tessera', secret: app.config.sessionSecret },
    smtpUrl,
    mailFrom: app.config.mailFrom,
    mailDir: join(app.config.dataDir, 'mail'),
    intervalMs: 60_000,
    leaseMs,
    now
  })
  return worker
}

t.test('a mail server slower than the lease never gets a message twice from two instances', async (t) => {
  const smtp = await smtpServer(t)
  smtp.acceptDelayMs = 250
  const [first, second] = await sharedApps(t, 2, { SMTP_URL: smtp.url }, { startWorkers: false })
  for (let i = 0; i < 20; i++) await first!.lifecycle.openTicket({ ...ticket, subject: `Ticket ${i}` })
  // 20 messages at 250 ms take 5 s or more, shared by two workers 2.5 s each; a lease is
  // 2.4 s, less than one worker's whole batch. A send is cut off at half the lease, 1.2 s,
  // which a slow machine's 250 ms send stays well within.
  const workers = [shortLeaseWorker(first!, smtp.url, 2400), shortLeaseWorker(second!, smtp.url, 2400)]
  t.teardown(async () => { for (const worker of workers) await worker.stop() })
  let sent = 0
  for (let round = 0; round < 6; round++) {
    sent += (await Promise.all(workers.map(async (worker) => await worker.runOnce()))).reduce((a, b) => a + b, 0)
  }
  t.equal(sent, 20)
  const subjects = smtp.messages.map((m) => m.parsed.subject)
  t.equal(subjects.length, 20, 'each message was delivered once')
  t.equal(new Set(subjects).size, 20, 'no message arrived twice')
  t.same([...new Set((await listOutbox(first!.db)).map((row) => row.status))], ['sent'])
})

t.test('a send cut off for taking too long is retried later with the same Message-ID', async (t) => {
  const clock = testClock()
  const smtp = await smtpServer(t)
  smtp.answerDelayMs = 5000
  const app = await testApp(t, { SMTP_URL: smtp.url }, { startWorkers: false, now: clock.now })
  const worker = shortLeaseWorker(app, smtp.url, 1000, clock.now)
  t.teardown(async () => { await worker.stop() })
  const opened = await app.lifecycle.openTicket(ticket)
  const started = Date.now()
  t.equal(await worker.runOnce(), 0)
  // Half the lease is 0.5 s; uncut, the send would wait out the server's 5 s.
  t.ok(Date.now() - started < 4000, 'the send was cut off at half the lease')
  let [row] = await listOutbox(app.db, { ticketId: opened.ticket.id })
  t.equal(row!.status, 'queued')
  t.match(row!.last_error, 'took too long')
  const firstId = row!.message_id
  t.ok(firstId, 'the Message-ID was chosen on the first attempt')

  smtp.answerDelayMs = 0
  clock.advance(60_000)
  // Retried by a worker with a long lease: the whole exchange need not fit in half a second.
  const patient = shortLeaseWorker(app, smtp.url, 60_000, clock.now)
  t.teardown(async () => { await patient.stop() })
  t.equal(await patient.runOnce(), 1);
  [row] = await listOutbox(app.db, { ticketId: opened.ticket.id })
  t.equal(row!.status, 'sent')
  t.equal(smtp.messages.length, 1)
  t.equal(smtp.messages[0]!.parsed.messageId, firstId, 'and kept for the retry')
})

t.test('closing the app cuts short a send to a hanging mail server; the message goes out later once', async (t) => {
  const smtp = await smtpServer(t)
  smtp.answerDelayMs = 90_000
  const [first, second] = await sharedApps(t, 2, { SMTP_URL: smtp.url }, { startWorkers: false })
  const opened = await first!.lifecycle.openTicket(ticket)
  const sending = first!.outbox.runOnce()
  while (smtp.mailFromCount === 0) await new Promise((resolve) => setTimeout(resolve, 20))
  const started = Date.now()
  await first!.close()
  const took = Date.now() - started
  t.ok(took < 15_000, `close() returned in ${took} ms, far below systemd's 30 s (the server would hang for 90 s)`)
  t.equal(await sending, 0)
  let [row] = await listOutbox(second!.db, { ticketId: opened.ticket.id })
  t.equal(row!.status, 'queued', 'the message is kept')
  t.equal(row!.lease_owner, null, 'and its lease handed back at once')
  t.equal(row!.attempts, 0, 'a shutdown is not counted against it')

  smtp.answerDelayMs = 0
  t.equal(await second!.outbox.runOnce(), 1, 'another instance sends it without waiting for a lease to run out');
  [row] = await listOutbox(second!.db, { ticketId: opened.ticket.id })
  t.equal(row!.status, 'sent')
  t.equal(smtp.messages.length, 1, 'exactly once')
  t.equal(smtp.messages[0]!.parsed.messageId, row!.message_id)
})
