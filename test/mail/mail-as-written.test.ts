import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { testApp, testClock } from '../helpers/app.js'
import { seedDesk, signIn } from '../helpers/fixtures.js'
import { apiKey, fixture, mailEnv, pipeMail, plainMessage, postMail } from '../helpers/mail.js'
import { asAgent, ticketRow } from '../helpers/actors.js'
import { dovecotServer } from '../helpers/dovecot.js'
import { programs, skipWithout } from '../helpers/programs.js'

// Real messages through the API, the MTA pipe (a child process each) and IMAP.
t.setTimeout(600_000)

const dir = fileURLToPath(new URL('../fixtures/mail-in/', import.meta.url))
const requester = 'grace.hopper@example.com'
const newRequestId = '<BY5PR11MB4290C0D4A1E2F9B7D3C6A8E5B1A42@BY5PR11MB4290.namprd11.prod.outlook.com>'

/** A fixture of this file's own folder, its {{PLACEHOLDERS}} filled in byte for byte. */
function mailIn (name: string, vars: Record<string, string> = {}): Buffer {
  const text = readFileSync(join(dir, `${name}.eml`)).toString('latin1')
  return Buffer.from(text.replace(/\{\{([A-Z_]+)\}\}/g, (_m, key: string) => {
    if (vars[key] === undefined) throw new Error(`${name}: no value for {{${key}}}`)
    return vars[key]!
  }), 'latin1')
}

interface Outcome { outcome?: string, ticketNumber?: string, reason?: string }

async function mailApp (t: Test, now?: () => number): Promise<{ app: FastifyInstance, key: string }> {
  const app = await testApp(t, mailEnv, { startWorkers: false, now })
  return { app, key: await apiKey(app) }
}

async function viaApi (t: Test, app: FastifyInstance, key: string, raw: Buffer): Promise<Outcome> {
  const answer = await postMail(app, raw, key)
  t.equal(answer.status, answer.body.outcome === 'ignored' ? 202 : 201, `API answers ${answer.status}: ${JSON.stringify(answer.body)}`)
  return answer.body
}

async function viaPipe (t: Test, app: FastifyInstance, raw: Buffer): Promise<Outcome> {
  const run = await pipeMail(app, raw)
  t.equal(run.code, 0, `mail-in exits 0 (${run.stderr.trim().split('\n').at(-1) ?? ''})`)
  const line = run.stdout.trim().split('\n').at(-1) ?? ''
  const ignored = /^ignored: (.+)$/.exec(line)
  if (ignored) return { outcome: 'ignored', reason: ignored[1] }
  const handled = /^(ticket|reply|note): ticket (\d+)$/.exec(line)
  return { outcome: handled?.[1], ticketNumber: handled?.[2] }
}

async function ticketOf (app: FastifyInstance, number: string | undefined): Promise<Record<string, any>> {
  const ticket = await app.db('tickets as t').join('requesters as r', 'r.id', 't.requester_id')
    .where('t.number', number ?? '').first('t.*', 'r.email as requester_email', 'r.name as requester_name')
  if (!ticket) throw new Error(`no ticket ${number}`)
  return ticket
}

async function entriesOf (app: FastifyInstance, ticketId: number): Promise<Array<Record<string, any>>> {
  return await app.db('thread_entries').where({ ticket_id: ticketId }).orderBy('id')
}

async function tableCounts (app: FastifyInstance): Promise<Record<string, number>> {
  const count = async (table: string): Promise<number> => Number((await app.db(table).count({ n: '*' }).first())?.n ?? 0)
  return { tickets: await count('tickets'), entries: await count('thread_entries'), outbox: await count('outbox'), events: await count('events') }
}

t.test('bodies: HTML-only mail reads as text wherever its HTML part sits, and agents can view the HTML safely', async (t) => {
  const { app, key } = await mailApp(t)
  const desk = await seedDesk(app)
  const cases: Array<[string, string, RegExp[]]> = [
    ['html-in-mixed', 'Invoice 2026-1187 shows the wrong VAT number', [/Good morning,/, /it is PL5260001247 \(last digit\)\. Our accounts department cannot book it like this\./, /Z poważaniem,\s+Marta Kowalczyk/]],
    ['html-nested-alternative', 'Accès VPN refusé depuis ce matin', [/Bonjour,/, /le VPN refuse ma connexion avec le message «\s*certificat expiré\s*»\./, /Merci d’avance,\s+Renée/]]
  ]
  for (const [name, subject, prose] of cases) {
    const result = await viaApi(t, app, key, mailIn(name))
    t.equal(result.outcome, 'ticket', `${name} opens a ticket`)
    const ticket = await ticketOf(app, result.ticketNumber)
    t.equal(ticket.subject, subject)
    const [entry] = await entriesOf(app, ticket.id)
    for (const pattern of prose) t.match(entry!.body, pattern, `${name}: ${String(pattern)}`)
    t.notMatch(entry!.body, /no text|<\/?[a-z]|MsoNormal|tracker\.example|cid:/i, `${name}: no tags, styles, image addresses or placeholder`)
    t.match(entry!.original_html, /<html/, `${name}: the HTML as sent is kept`)
  }

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const ticket = await ticketOf(app, (await app.db('tickets').where({ subject: 'Invoice 2026-1187 shows the wrong VAT number' }).first()).number)
  const page = await bob.get(`/staff/tickets/${ticket.number}`)
  const link = page.$('a[href$="/html"]').attr('href')
  t.ok(link, 'the ticket page links to the e-mail as formatted')
  const html = await bob.get(link!)
  t.equal(html.status, 200)
  const csp = String(html.headers['content-security-policy'])
  t.match(csp, /(^|;\s*)sandbox(;|$)/, 'shown in a sandbox: no scripts, no same-origin access')
  t.match(csp, /img-src data:;/, 'no remote images by default')
  t.notMatch(csp, /script-src/, 'no script source is allowed (default-src none)')
  t.match(html.html, 'PL5260001247')
  const remote = await bob.get(`${link!}?images=remote`)
  t.match(String(remote.headers['content-security-policy']), /img-src data: https: http:/, 'remote images only when the agent asks')

  const { visitor: ned } = await signIn(app, desk.agents.ned.email)
  t.equal((await ned.get(link!)).status, 404, 'an agent of another department cannot read it')
  t.equal((await app.inject({ url: link! })).statusCode === 200, false, 'nor can anyone signed out')
})

t.test('charsets: undeclared GBK, Shift_JIS and Windows-1252 bytes and declared ISO-2022-JP come out as the sender wrote them', async (t) => {
  const { app, key } = await mailApp(t)
  const cases: Array<[string, 'api' | 'pipe', { name: string, subject: string, body: string }]> = [
    ['gbk-undeclared', 'pipe', { name: '王小明', subject: '打印机无法打印第二页', body: '三楼的打印机每次打印到第二页就卡纸。我们已经换过纸，也清洁过滚轮。' }],
    ['sjis-undeclared', 'api', { name: '山田太郎', subject: 'プリンターが動きません', body: '電源は入っていますが、画面に「エラー１３」と表示されます。' }],
    ['latin1-headers', 'api', { name: 'Jörg Müller', subject: 'Grüße – Zugang für Bärbel gesperrt', body: 'das Konto von Bärbel Schön ist seit gestern gesperrt. Können Sie es bitte' }],
    ['iso-2022-jp', 'api', { name: '佐藤花子', subject: '請求書の再発行について', body: '先月分の請求書を紛失してしまいました。再発行をお願いできますでしょうか。' }]
  ]
  for (const [name, channel, expected] of cases) {
    const result = channel === 'pipe' ? await viaPipe(t, app, mailIn(name)) : await viaApi(t, app, key, mailIn(name))
    t.equal(result.outcome, 'ticket', `${name} (${channel}) opens a ticket`)
    const ticket = await ticketOf(app, result.ticketNumber)
    t.equal(ticket.subject, expected.subject, `${name}: subject`)
    t.equal(ticket.requester_name, expected.name, `${name}: sender's name`)
    const [entry] = await entriesOf(app, ticket.id)
    t.match(entry!.body, expected.body, `${name}: body`)
    t.notMatch(`${ticket.subject}${ticket.requester_name}${entry!.body}`, /\uFFFD/, `${name}: no replacement characters`)
  }

  t.test('mixed and broken encodings never crash', async (t) => {
    const raw = Buffer.concat([
      Buffer.from('From: =?x-unknown?Q?Bad=FFName?= <mixed@example.org>\r\nTo: help@desk.test\r\nSubject: =?utf-8?B?4pyT?= and \xe9t\xe9\r\nMessage-ID: <mixed.1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nFirst part \u00e9\r\n--b\r\nContent-Type: text/plain; charset=bogus-charset\r\n\r\nSecond ', 'latin1'),
      Buffer.from([0xff, 0xfe, 0x80, 0x81]),
      Buffer.from('\r\n--b--\r\n')
    ])
    const result = await viaApi(t, app, key, raw)
    t.equal(result.outcome, 'ticket')
  })
})

t.test('line endings: CRLF, LF and CR-only messages are all read', async (t) => {
  const { app, key } = await mailApp(t)
  const crlf = mailIn('lf-only').toString('latin1').replace(/\n/g, '\r\n').replace('lf-only.3c9e1a', 'crlf.9a8b7c')
  for (const [name, raw, channel] of [['lf-only', mailIn('lf-only'), 'api'], ['cr-only', mailIn('cr-only'), 'pipe'], ['crlf', Buffer.from(crlf, 'latin1'), 'api']] as const) {
    const result = channel === 'pipe' ? await viaPipe(t, app, raw) : await viaApi(t, app, key, raw)
    t.equal(result.outcome, 'ticket', `${name} (${channel})`)
    const ticket = await ticketOf(app, result.ticketNumber)
    t.equal(ticket.subject, 'Badge reader at door 4 beeps red', `${name}: subject`)
    t.equal(ticket.requester_email, 'tom.baker@example.org', `${name}: sender`)
    const [entry] = await entriesOf(app, ticket.id)
    t.equal(entry!.body.replace(/\r/g, ''), 'Hi,\n\nthe badge reader at door 4 beeps red for everyone since 9:00.\nThe other doors work.\n\nTom', `${name}: body, line by line`)
  }
})

t.test('senders: two From headers, obsolete syntax, only Sender or only Reply-To', async (t) => {
  const { app, key } = await mailApp(t)
  const cases: Array<[string, string, string, string]> = [
    ['two-from', 'lin.chen@example.org', 'Lin Chen', 'Contact form: parking permit renewal'],
    ['obsolete-from', 'owner@legacy.example.net', 'Ops Robot Owner', 'Nightly backup of the file server did not start'],
    ['sender-only', 'priya.raman@example.org', 'Priya Raman', 'Shared calendar disappeared'],
    ['reply-to-only', 'omar.haddad@example.org', 'Omar Haddad', 'Scanner sends empty PDFs']
  ]
  for (const [name, email, person, subject] of cases) {
    const result = await viaApi(t, app, key, mailIn(name))
    t.equal(result.outcome, 'ticket', `${name}: a ticket, not "no sender address"`)
    const ticket = await ticketOf(app, result.ticketNumber)
    t.equal(ticket.requester_email, email, `${name}: the sender`)
    t.equal(ticket.requester_name, person, `${name}: by name`)
    t.equal(ticket.subject, subject, `${name}: subject`)
  }
})

t.test('size: a long body is shortened in the thread, says so, and the full text is kept', async (t) => {
  const { app, key } = await mailApp(t)
  const desk = await seedDesk(app)
  const line = 'Log line from the print server: job 4711 stalled at page two.\n'
  const text = Array.from({ length: 2500 }, (_, i) => `${String(i).padStart(5, '0')} ${line}`).join('') + 'THE LAST LINE'
  t.ok(text.length > 100_000)
  const result = await viaApi(t, app, key, plainMessage({ Subject: 'Print server log', 'Message-ID': '<long.1@example.com>' }, text.replace(/\n/g, '\r\n')))
  const ticket = await ticketOf(app, result.ticketNumber)
  const [entry] = await entriesOf(app, ticket.id)
  t.equal(entry!.body.length, 100_000, 'the thread shows the start')
  t.ok(Boolean(entry!.body_shortened), 'marked shortened')
  t.equal(entry!.original_body, text, 'the whole text, last line included, is kept')
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const page = await bob.get(`/staff/tickets/${ticket.number}`)
  t.match(page.$('.entry.message .shortened').text(), 'Message shortened; the full text is kept')
  t.match(page.$('.entry.message details .original').text(), 'THE LAST LINE', 'the agent can read all of it')
})

t.test('permanent refusals: over 1,000 MIME parts or a huge header answer 65 and 422, and are set aside for an admin', async (t) => {
  const { app, key } = await mailApp(t)
  const desk = await seedDesk(app)
  const parts = Array.from({ length: 1001 }, (_, i) => `--p\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('')
  const manyParts = plainMessage({ Subject: 'Thousand parts', 'Message-ID': '<parts.1@example.com>', 'Content-Type': 'multipart/mixed; boundary="p"' }, `${parts}--p--\r\n`)
  const hugeHeader = plainMessage({ Subject: 'Huge header', 'Message-ID': '<header.1@example.com>', 'X-Junk': Array.from({ length: 20_000 }, () => 'x'.repeat(50)).join('\r\n ') })
  t.ok(hugeHeader.length > 1024 * 1024, 'a header of more than 1 MB')
  const before = await tableCounts(app)

  const piped = await pipeMail(app, manyParts)
  t.equal(piped.code, 65, 'mail-in exits 65 (EX_DATAERR): the MTA bounces it instead of retrying')
  t.match(piped.stderr, /more than 1000 MIME parts/)
  const posted = await postMail(app, hugeHeader, key)
  t.equal(posted.status, 422, 'the API answers 4xx, not 5xx')
  t.equal(posted.body.error?.code, 'TESSERA_UNPROCESSABLE')
  t.same(await tableCounts(app), before, 'no ticket, entry, event or mail')

  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.get('/staff/admin/mail')
  t.equal(page.status, 200)
  const rows = page.$('tbody tr').map((_, row) => page.$(row).text().replace(/\s+/g, ' ')).get()
  t.equal(rows.length, 2)
  t.match(rows.join('\n'), /Thousand parts.*more than 1000 MIME parts/)
  t.match(rows.join('\n'), /Huge header.*header block larger than/)
  t.match(page.$('nav.admin-nav a[aria-current="page"]').text(), 'Mail set aside')
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get('/staff/admin/mail')).status, 404, 'only administrators see it')

  const again = await postMail(app, hugeHeader, key)
  t.equal(again.status, 422, 'the same message again is refused again')
  t.equal((await app.db('set_aside_mail').where({ kind: 'unprocessable' })).length, 2, 'and listed once')
})

t.test('machines: auto-replies, vacation notices, bounces in any wrapper and abuse reports open, reopen and answer nothing', async (t) => {
  const clock = testClock()
  const { app, key } = await mailApp(t, clock.now)
  const desk = await seedDesk(app)
  const opened = await viaApi(t, app, key, fixture('new-request'))
  const ticket = await ticketOf(app, opened.ticketNumber)
  await app.outbox.runOnce()
  clock.advance(60_000)
  await app.lifecycle.resolveTicket(await ticketRow(app, ticket.id), await asAgent(app, desk.agents.bob.id))
  await app.outbox.runOnce()
  const resolvedMail = await app.db('outbox').where({ ticket_id: ticket.id, template: 'ticket_resolved' }).first()
  t.ok(resolvedMail?.message_id)
  const before = await tableCounts(app)
  const vars = { REQUESTER: requester, NUMBER: ticket.number, IN_REPLY_TO: resolvedMail.message_id }

  const cases: Array<[string, 'api' | 'pipe', RegExp]> = [
    ['exchange-automatic-reply', 'pipe', /auto-reply/i],
    ['provider-vacation-de', 'api', /auto-reply/i],
    ['dsn-in-mixed', 'api', /delivery report/],
    ['ses-bounce-json', 'api', /JSON notification/],
    ['arf-report', 'api', /ARF/],
    ['mailer-daemon-bare', 'api', /MAILER-DAEMON/]
  ]
  for (const [name, channel, reason] of cases) {
    clock.advance(60_000)
    const raw = mailIn(name, vars)
    const result = channel === 'pipe' ? await viaPipe(t, app, raw) : await viaApi(t, app, key, raw)
    t.equal(result.outcome, 'ignored', `${name} (${channel}) is ignored`)
    t.match(result.reason, reason, `${name}: ${result.reason}`)
  }
  t.same(await tableCounts(app), before, 'no ticket, entry, event or outbox row')
  t.equal((await ticketOf(app, ticket.number)).status, 'resolved', 'the auto-reply to the resolved ticket did not reopen it')

  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.get('/staff/admin/mail?kind=automated')
  t.equal(page.$('tbody tr').length, cases.length, 'each is listed for an administrator, with its reason')
  t.match(page.text, 'Abwesenheitsnotiz')
})

t.test('people behind lists: mail through a group alias is a ticket, with no automatic mail to the list', async (t) => {
  const { app, key } = await mailApp(t)
  const result = await viaApi(t, app, key, mailIn('google-group'))
  t.equal(result.outcome, 'ticket')
  const ticket = await ticketOf(app, result.ticketNumber)
  t.equal(ticket.requester_email, 'amara.okafor@example.org')
  t.equal(ticket.subject, 'Heating in meeting room Kilimanjaro is off')
  const mail = await app.db('outbox').where({ ticket_id: ticket.id })
  t.same(mail.filter((row: { template: string }) => row.template === 'ticket_received'), [], 'no "we received your request" to a list')
  t.notOk(mail.some((row: { to_address: string }) => /groups\.example\.org/.test(row.to_address)), 'nothing to the list address')

  const precedence = await viaApi(t, app, key, plainMessage({ Precedence: 'list', 'List-Id': '<printers.lists.example.org>', 'Message-ID': '<list.2@example.com>' }))
  t.equal(precedence.outcome, 'ticket', 'Precedence: list with List-Id is still a person')
  const automated = await viaApi(t, app, key, plainMessage({ Precedence: 'list', 'Auto-Submitted': 'auto-generated', 'Message-ID': '<list.3@example.com>' }))
  t.equal(automated.outcome, 'ignored', 'unless it is machine-made too')
})

t.test('colleagues: a reply from someone in Cc joins the ticket as a participant; agents add and remove participants', async (t) => {
  const clock = testClock()
  const { app, key } = await mailApp(t, clock.now)
  const desk = await seedDesk(app)
  const opened = await viaApi(t, app, key, fixture('new-request'))
  const ticket = await ticketOf(app, opened.ticketNumber)
  clock.advance(60_000)
  await app.lifecycle.setPending(await ticketRow(app, ticket.id), await asAgent(app, desk.agents.bob.id))
  const ticketsBefore = (await tableCounts(app)).tickets

  clock.advance(60_000)
  const reply = await viaApi(t, app, key, mailIn('colleague-reply', { REQUESTER: requester, IN_REPLY_TO: newRequestId, REFERENCES: newRequestId }))
  t.same(reply, { outcome: 'reply', ticketNumber: ticket.number }, 'lands on the ticket')
  t.equal((await tableCounts(app)).tickets, ticketsBefore, 'no new ticket')
  const entry = (await entriesOf(app, ticket.id)).at(-1)!
  t.match(entry.body, 'so it may be the driver rather than the hardware')
  t.notMatch(entry.body, /wrote:|^>/m, 'quoted history trimmed')
  const after = await ticketOf(app, ticket.number)
  t.equal(after.status, 'open', 'a pending ticket opens again for an agent to read it')
  t.equal(after.requester_email, requester, 'the requester stays the requester')

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  let page = await bob.get(`/staff/tickets/${ticket.number}`)
  t.match(page.$('.participants').text(), 'Alan Turing <alan.turing@example.com>', 'shown on the ticket page')
  t.match(page.text, 'added Alan Turing <alan.turing@example.com> as a participant, who replied by e-mail')
  t.match(page.$(`#entry-${String(entry.id)} .meta`).text(), 'Alan Turing', 'their message is theirs')

  page = await bob.submit(page, 'form.participant-form', { email: 'not an address', name: 'Joan' })
  t.equal(page.status, 422, 'a bad address is refused')
  t.equal(page.$('#participant-email').val(), 'not an address', 'with the text kept')
  t.match(page.$('#participant-email-error').text(), 'Enter an e-mail address')
  page = await bob.submit(page, 'form.participant-form', { email: 'Joan.Clarke@Example.com', name: 'Joan Clarke' })
  t.equal(page.status, 200)
  t.match(page.$('.participants').text(), 'Joan Clarke <joan.clarke@example.com>', 'added by the agent')
  t.match(page.text, 'Bob Kahn added Joan Clarke <joan.clarke@example.com> as a participant')
  const removeAlan = page.$('.participants li').filter((_, li) => page.$(li).text().includes('Alan')).find('form')
  t.ok(removeAlan.length)
  page = await bob.submit(page, `form[action="${removeAlan.attr('action')!}"]`)
  t.notMatch(page.$('.participants').text(), 'Alan Turing')
  t.match(page.text, 'removed the participant Alan Turing <alan.turing@example.com>')
  const events = await app.db('events').where({ ticket_id: ticket.id }).whereIn('type', ['participant_added', 'participant_removed']).orderBy('id')
  t.same(events.map((e: { type: string }) => e.type).slice(0, 3), ['participant_added', 'participant_added', 'participant_removed'])

  clock.advance(60_000)
  page = await bob.get(`/staff/tickets/${ticket.number}`)
  t.ok(page.$('#composer-cc').is(':checked'), 'a reply keeps the participants in Cc unless the agent unticks it')
  page = await bob.submit(page, 'form.composer', { message: 'Thanks both, a technician is on the way. Requester link: {ticket.link}', intent: 'reply' })
  t.equal(page.status, 200)
  const copies = await app.db('outbox').where({ ticket_id: ticket.id, template: 'participant_copy' })
  t.same(copies.map((row: { to_address: string }) => row.to_address), ['joan.clarke@example.com'], 'a copy to the participant kept, none to the one removed')
  await app.outbox.runOnce()
  const sent = readFileSync(join(app.config.dataDir, 'mail', `${String(copies[0].id)}.eml`), 'utf8')
  t.match(sent, 'a technician is on the way')
  t.notMatch(sent, /\/access\//, 'the copy never carries the requester\'s private link')
  const copyId = (await app.db('outbox').where({ id: copies[0].id }).first()).message_id as string
  clock.advance(60_000)
  const joan = await viaApi(t, app, key, Buffer.from(mailIn('colleague-reply', { REQUESTER: requester, IN_REPLY_TO: copyId, REFERENCES: copyId }).toString('latin1')
    .replace('<8e2d4c1a-', '<joan-').replace('Alan Turing <alan.turing@', 'Joan Clarke <joan.clarke@'), 'latin1'))
  t.same(joan, { outcome: 'reply', ticketNumber: ticket.number }, 'a participant answering the copy lands on the ticket too')

  const { visitor: vic } = await signIn(app, desk.agents.vic.email)
  const vicPage = await vic.get(`/staff/tickets/${ticket.number}`)
  t.equal(vicPage.$('form.participant-form').length, 0, 'a view-only agent gets no form')
  const forced = await vic.get(`/staff/tickets/${ticket.number}/participants`)
  t.equal(forced.$('form.participant-form').length, 0)

  t.test('a stranger quoting a Message-ID only agents were sent still opens a ticket of their own', async (t) => {
    await app.outbox.runOnce()
    const toBob = await app.db('outbox').where({ ticket_id: ticket.id, template: 'new_ticket', to_address: desk.agents.bob.email }).first()
    const raw = mailIn('colleague-reply', { REQUESTER: requester, IN_REPLY_TO: toBob.message_id, REFERENCES: toBob.message_id })
    const result = await viaApi(t, app, key, Buffer.from(raw.toString('latin1').replace('<8e2d4c1a-', '<other-').replace('alan.turing@', 'mallory@'), 'latin1'))
    t.equal(result.outcome, 'ticket')
    t.not(result.ticketNumber, ticket.number)
  })
})

t.test('IMAP: an undeclared-charset message becomes a ticket and an auto-reply opens nothing', { skip: skipWithout(programs.dovecot) }, async (t) => {
  const mail = await dovecotServer(t)
  const app = await testApp(t, { ...mailEnv, DATA_DIR: join(t.testdirName, 'app'), IMAP_URL: mail.url }, { startWorkers: false })
  await mail.append(mailIn('sjis-undeclared'))
  await mail.append(mailIn('provider-vacation-de', { NUMBER: '123456' }))
  t.match(await app.imap!.runOnce(), { found: 2, processed: 2, failed: 0 })
  const tickets = await app.db('tickets').select('subject')
  t.same(tickets.map((row: { subject: string }) => row.subject), ['プリンターが動きません'])
})
