import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../src/config.js'
import { findInboundMessage } from '../../src/data/mail.js'
import { listEntries } from '../../src/data/tickets.js'
import { createImapPoller, imapConnection, type ImapPollerOptions } from '../../src/mail/imap-poller.js'
import { freshDatabaseUrl, testApp, testFolder } from '../helpers/app.js'
import { dovecotServer, type TestDovecot } from '../helpers/dovecot.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.dovecot)

let sequence = 0

/** A plain RFC 822 message; every one gets a Message-ID of its own unless given one. */
function message ({ from = 'Grace Hopper <grace@example.com>', subject = 'Printer jams on page two', body = 'The second page always jams.', headers = {} as Record<string, string>, messageId = `<imap-test-${++sequence}-${Date.now()}@example.com>` } = {}): string {
  const lines = [
    `From: ${from}`,
    'To: help@desk.test',
    `Subject: ${subject}`,
    `Message-ID: ${messageId}`,
    'Date: Thu, 26 Nov 2026 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    body,
    ''
  ]
  return lines.join('\r\n')
}

const idOf = (raw: string): string => /^Message-ID: (.+)$/m.exec(raw)![1]!.trim()

/** Message-IDs per folder, for assertions that read like the mailbox. */
async function mailbox (mail: TestDovecot): Promise<Record<string, string[]>> {
  const folders = await mail.folders()
  return Object.fromEntries(Object.entries(folders).map(([name, messages]) => [name, messages.map((m) => m.messageId).sort()]))
}

/** The Dovecot server first, then the app in a folder of its own (testApp would empty the server's). */
async function imapApp (t: Test, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, mail: TestDovecot }> {
  const mail = await dovecotServer(t)
  const app = await testApp(t, { DATA_DIR: join(t.testdirName, 'app'), IMAP_URL: mail.url, ...env }, { startWorkers: false })
  t.ok(app.imap, 'IMAP_URL turns the poller on')
  return { app, mail }
}

async function ticketCount (app: FastifyInstance): Promise<number> {
  const row = await app.db('tickets').count({ n: '*' }).first()
  return Number(row?.n)
}

/** A poller of the test's own making, for the cases the app's own cannot stage. */
function poller (t: Test, app: FastifyInstance, mail: TestDovecot, receive: ImapPollerOptions['receive'] = app.inbound.receive): ReturnType<typeof createImapPoller> {
  const created = createImapPoller({
    url: mail.url, folder: 'INBOX', processedFolder: 'Tessera/Processed', failedFolder: 'Tessera/Failed', intervalMs: 60_000, log: app.log, receive
  })
  t.teardown(async () => { await created.stop() })
  return created
}

t.test('a new message becomes a ticket and moves to the processed folder', { skip }, async (t) => {
  const { app, mail } = await imapApp(t)
  const raw = message()
  const read = message({ subject: 'Someone read this one already' })
  await mail.append(raw)
  await mail.append(read, 'INBOX', ['\\Seen'])

  t.same(await app.imap!.runOnce(), { found: 1, processed: 1, failed: 0, deferred: 0 }, 'only unseen mail is taken')
  const ticket = await app.db('tickets as t').join('requesters as r', 'r.id', 't.requester_id').first('t.id', 't.subject', 'r.email')
  t.match(ticket, { subject: 'Printer jams on page two', email: 'grace@example.com' })
  const [entry] = await listEntries(app.db, ticket.id, { includeNotes: true })
  t.match(entry, { kind: 'message', body: 'The second page always jams.', message_id: idOf(raw) })
  // The test server separates levels with '.', so the folder was created as Tessera.Processed.
  t.same(await mailbox(mail), { INBOX: [idOf(read)], 'Tessera/Processed': [idOf(raw)] })
  t.equal(await ticketCount(app), 1)

  t.same(await app.imap!.runOnce(), { found: 0, processed: 0, failed: 0, deferred: 0 }, 'nothing new is a quiet pass')
})

t.test('a reply from the requester to their own message lands on that ticket; an auto-reply opens nothing', { skip }, async (t) => {
  const { app, mail } = await imapApp(t)
  const first = message()
  await mail.append(first)
  await app.imap!.runOnce()
  const ticket = await app.db('tickets').first('id', 'number')

  // The requester answers their own first message; a [#number] alone would not do (forgeable).
  const reply = message({ subject: `Re: [#${ticket.number}] Printer jams on page two`, body: 'It jams on page three now, too.', headers: { 'In-Reply-To': idOf(first), References: idOf(first) } })
  const autoReply = message({ from: 'Grace Hopper <grace@example.com>', subject: 'Out of office', body: 'I am away until Monday.', headers: { 'Auto-Submitted': 'auto-replied' } })
  const stranger = message({ from: 'Mallory <mallory@example.net>', subject: `Re: [#${ticket.number}] Printer jams on page two`, body: 'Let me in.' })
  await mail.append(reply)
  await mail.append(autoReply)
  await mail.append(stranger)

  t.same(await app.imap!.runOnce(), { found: 3, processed: 3, failed: 0, deferred: 0 })
  const entries = await listEntries(app.db, ticket.id, { includeNotes: true })
  t.same(entries.map((e) => e.body), ['The second page always jams.', 'It jams on page three now, too.'], 'the reply is on the ticket')
  t.equal(entries[1]!.message_id, idOf(reply))
  t.match(await findInboundMessage(app.db, idOf(autoReply)), { outcome: 'ignored', ticket_id: null }, 'the auto-reply was seen and ignored')
  t.equal(await ticketCount(app), 2, 'only the stranger, who may not use the token, got a ticket of their own')
  t.same(await mailbox(mail), { INBOX: [], 'Tessera/Processed': [first, reply, autoReply, stranger].map(idOf).sort() }, 'every one left the inbox')
})

t.test('a message the pipeline fails on goes to the failed folder; the others go through', { skip }, async (t) => {
  const { app, mail } = await imapApp(t)
  const before = message({ subject: 'First' })
  const poison = message({ subject: 'Poison' })
  const after = message({ subject: 'Third' })
  for (const raw of [before, poison, after]) await mail.append(raw)
  const imap = poller(t, app, mail, async (raw) => {
    if (raw.toString('latin1').includes('Subject: Poison')) throw new Error('cannot digest this one')
    return await app.inbound.receive(raw)
  })

  t.same(await imap.runOnce(), { found: 3, processed: 2, failed: 1, deferred: 0 })
  t.same((await app.db('tickets').orderBy('id').select('subject')).map((r) => r.subject), ['First', 'Third'])
  t.same(await mailbox(mail), { INBOX: [], 'Tessera/Processed': [before, after].map(idOf).sort(), 'Tessera/Failed': [idOf(poison)] })
  t.same(await imap.runOnce(), { found: 0, processed: 0, failed: 0, deferred: 0 }, 'and it is not tried again')
})

t.test('when every message fails (the database is down) they stay in the inbox for the next pass', { skip }, async (t) => {
  const { app, mail } = await imapApp(t)
  const raws = [message({ subject: 'One' }), message({ subject: 'Two' })]
  for (const raw of raws) await mail.append(raw)
  let databaseUp = false
  const imap = poller(t, app, mail, async (raw) => {
    if (!databaseUp) throw new Error('connect ECONNREFUSED')
    return await app.inbound.receive(raw)
  })

  t.same(await imap.runOnce(), { found: 2, processed: 0, failed: 0, deferred: 2 })
  const folders = await mail.folders()
  t.same(folders.INBOX!.map((m) => m.messageId).sort(), raws.map(idOf).sort(), 'both wait in the inbox')
  t.notOk(folders.INBOX!.some((m) => m.flags.includes('\\Seen')), 'still unseen')

  databaseUp = true
  t.same(await imap.runOnce(), { found: 2, processed: 2, failed: 0, deferred: 0 })
  t.equal(await ticketCount(app), 2)
  t.same(await mailbox(mail), { INBOX: [], 'Tessera/Processed': raws.map(idOf).sort() })
})

t.test('polling again, or the same message delivered again, creates nothing twice', { skip }, async (t) => {
  const { app, mail } = await imapApp(t)
  const raw = message()
  await mail.append(raw)
  await app.imap!.runOnce()
  t.same(await app.imap!.runOnce(), { found: 0, processed: 0, failed: 0, deferred: 0 })

  // The MTA delivers the same message a second time; a person files a copy back in the inbox.
  await mail.append(raw)
  await mail.append(raw)
  t.same(await app.imap!.runOnce(), { found: 2, processed: 2, failed: 0, deferred: 0 })
  t.equal(await ticketCount(app), 1)
  t.equal((await app.db('thread_entries')).length, 1, 'and no second thread entry')
  t.same(await mailbox(mail), { INBOX: [], 'Tessera/Processed': [raw, raw, raw].map(idOf) })
})

t.test('two instances polling one mailbox at once file every message exactly once', { skip }, async (t) => {
  const mail = await dovecotServer(t)
  // What sharedApps does, in a folder dovecotServer has made already.
  const shared = { DATA_DIR: join(t.testdirName, 'app'), DATABASE_URL: await freshDatabaseUrl(t), SESSION_SECRET: randomBytes(32).toString('hex') }
  const first = await testApp(t, shared, { startWorkers: false })
  const second = await testApp(t, shared, { startWorkers: false })
  const raws = Array.from({ length: 12 }, (_, i) => message({ subject: `Request ${i}` }))
  for (const raw of raws) await mail.append(raw)
  const pollers = [poller(t, first!, mail), poller(t, second!, mail)]

  const counts = await Promise.all([pollers[0]!.runOnce(), pollers[1]!.runOnce(), pollers[0]!.runOnce(), pollers[1]!.runOnce()])
  t.equal(counts.reduce((n, c) => n + c.failed, 0), 0, 'nothing failed')
  // A message one instance is processing is left by the other for its next pass (had the
  // first crashed, the message would still be there to process), which files it.
  const next = await Promise.all([pollers[0]!.runOnce(), pollers[1]!.runOnce()])
  t.equal(next.reduce((n, c) => n + c.failed + c.deferred, 0), 0, 'the next passes leave nothing behind')
  t.equal(await ticketCount(first!), 12, 'one ticket per message')
  const subjects = (await first!.db('tickets').select('subject')).map((r) => r.subject).sort()
  t.same(subjects, raws.map((_, i) => `Request ${i}`).sort())
  const folders = await mailbox(mail)
  t.same(folders.INBOX, [], 'the inbox is empty')
  // Dovecot's maildir MOVE is copy-then-expunge: when both instances move one message at the
  // same moment, it can land in the processed folder twice. It is still one ticket.
  t.same([...new Set(folders['Tessera/Processed'])], raws.map(idOf).sort(), 'every message is in the processed folder')
  t.same(Object.keys(folders).sort(), ['INBOX', 'Tessera/Processed'], 'and none in the failed folder')
})

t.test('the app polls on its own, rides out a server that is down and stops cleanly', { skip }, async (t) => {
  const mail = await dovecotServer(t)
  await mail.stop()
  const app = await testApp(t, { DATA_DIR: join(t.testdirName, 'app'), IMAP_URL: mail.url, IMAP_INTERVAL_SECONDS: '0.1' })
  await t.rejects(app.imap!.runOnce(), { code: 'ECONNREFUSED' }, 'a pass fails while the server is down')
  await new Promise((resolve) => setTimeout(resolve, 300)) // a few scheduled passes fail too

  await mail.start()
  await mail.append(message({ subject: 'Sent while you were down' }))
  const deadline = Date.now() + 15_000
  while (await ticketCount(app) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(await ticketCount(app), 1, 'a later scheduled pass picked the message up')

  await app.close()
  t.notMatch(mail.log(), /imap\([^)]*\)[^\n]*Disconnected: (?!Logged out)/, 'every session ended with a LOGOUT')
  t.match(mail.log(), /imap\([^)]*\)[^\n]*Disconnected: Logged out/)
})

t.test('stop() lets the message in hand finish and logs out; the rest wait', { skip }, async (t) => {
  const { app, mail } = await imapApp(t)
  const raws = [message({ subject: 'One' }), message({ subject: 'Two' }), message({ subject: 'Three' })]
  for (const raw of raws) await mail.append(raw)
  let stopping: Promise<void> | undefined
  const imap = poller(t, app, mail, async (raw) => {
    stopping ??= imap.stop()
    return await app.inbound.receive(raw)
  })

  t.same(await imap.runOnce(), { found: 3, processed: 1, failed: 0, deferred: 0 })
  await stopping
  t.same(await mailbox(mail), { INBOX: raws.slice(1).map(idOf).sort(), 'Tessera/Processed': [idOf(raws[0]!)] })
  const sessions = mail.log().split('\n').filter((line) => /imap\(.*Disconnected/.test(line))
  t.ok(sessions.length > 0 && sessions.every((line) => line.includes('Disconnected: Logged out')), 'the poller logged out')
  t.same(await imap.runOnce(), { found: 0, processed: 0, failed: 0, deferred: 0 }, 'a stopped poller connects no more')
})

t.test('stop() cuts off a server that stops answering mid-pass; nothing is lost', { skip }, async (t) => {
  const { app, mail } = await imapApp(t)
  const raw = message()
  await mail.append(raw)
  let frozen = 0
  t.teardown(() => { if (frozen) process.kill(frozen, 'SIGCONT') })
  let stopping: Promise<void> | undefined
  const imap = poller(t, app, mail, async (raw) => {
    const result = await app.inbound.receive(raw)
    // The poller's session is the latest login; freeze its IMAP process, then shut down.
    frozen = Number([...mail.log().matchAll(/Login: user=<[^>]+>.*mpid=(\d+)/g)].at(-1)?.[1])
    process.kill(frozen, 'SIGSTOP')
    stopping = imap.stop()
    return result
  })

  const started = Date.now()
  await t.rejects(imap.runOnce(), 'the pass ends with the connection cut')
  await stopping
  t.ok(Date.now() - started < 15_000, 'stop() did not wait for the frozen server')
  process.kill(frozen, 'SIGCONT')
  frozen = 0

  // Whether or not the server got to the MOVE, the next pass leaves one ticket and an empty inbox.
  await poller(t, app, mail).runOnce()
  t.equal(await ticketCount(app), 1)
  const folders = await mailbox(mail)
  t.same(folders.INBOX, [])
  t.same(folders['Tessera/Processed'], [idOf(raw)])
})

t.test('IMAP settings', async (t) => {
  const base = { DATA_DIR: testFolder(t), SESSION_SECRET: 'x'.repeat(32) }
  t.match(loadConfig(base), { imapUrl: '', imapFolder: 'INBOX', imapProcessedFolder: 'Tessera/Processed', imapFailedFolder: 'Tessera/Failed', imapIntervalMs: 60_000 })
  t.match(loadConfig({ ...base, IMAP_URL: 'imaps://desk%40example.com:p%40ss@imap.example.com', IMAP_INTERVAL_SECONDS: '30' }), { imapUrl: 'imaps://desk%40example.com:p%40ss@imap.example.com', imapIntervalMs: 30_000 })
  t.throws(() => loadConfig({ ...base, IMAP_URL: 'https://user:pass@imap.example.com' }), /IMAP_URL/)
  t.throws(() => loadConfig({ ...base, IMAP_URL: 'imap://imap.example.com' }), /IMAP_URL/, 'a user is required')
  t.throws(() => loadConfig({ ...base, IMAP_FOLDER: '' }), /IMAP_FOLDER/)

  t.same(imapConnection('imaps://desk%40example.com:p%40ss@imap.example.com'), { host: 'imap.example.com', port: 993, secure: true, auth: { user: 'desk@example.com', pass: 'p@ss' } })
  t.match(imapConnection('imap://u:p@[::1]'), { host: '::1', port: 143, secure: false })
  t.match(imapConnection('imap://u:p@127.0.0.1:1143'), { port: 1143 })

  const app = await testApp(t, { DATA_DIR: join(t.testdirName, 'app') }, { startWorkers: false })
  t.equal(app.imap, null, 'no IMAP_URL, no poller')
})
