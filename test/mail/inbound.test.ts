import { readdirSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { ParsedMail } from 'mailparser'
import { replyMarker } from '../../src/mail/compose.js'
import { testApp, testClock } from '../helpers/app.js'
import { seedDesk } from '../helpers/fixtures.js'
import {
  apiKey, deskAddress, fixture, mailEnv, mailFixturesDir, pipeMail, plainMessage, postMail, rawFixture, setDepartmentAddress, tokenInSentMail, withHeader, type FixtureVars
} from '../helpers/mail.js'
import { smtpServer } from '../helpers/smtp.js'
import { Visitor } from '../helpers/visitor.js'
import { asAgent, system, ticketRow } from '../helpers/actors.js'

// Many real messages through two ways in, several with a child process each: more than the default two minutes on a busy machine.
t.setTimeout(600_000)

type Channel = 'pipe' | 'api'
const channels: Channel[] = ['pipe', 'api']

interface Outcome { outcome: string, ticketNumber?: string, reason?: string }

/** The app's limits on what one message may store (src/mail/inbound.ts). */
const maxBodyLength = 100_000
const maxSubjectLength = 200

/** Message-IDs of the new-request and reply fixtures, as their headers give them. */
const ids = {
  newRequest: '<BY5PR11MB4290C0D4A1E2F9B7D3C6A8E5B1A42@BY5PR11MB4290.namprd11.prod.outlook.com>',
  gmail: '<CAHx7kQf0d9B1sP+u4qv2mB_3nW0aQ8u6pE2Lr6sG1m5cXoZbYg@mail.gmail.com>',
  outlookDesktop: '<000a01db4f2e$8c3e1f70$a4ba5e50$@example.com>',
  thunderbird: '<5d1c8a3e-7f2b-4c9d-b6e1-0a4f2e8c7b19@example.com>',
  apple: '<7F3A9C2E-5B1D-4E8F-A6C0-2D9B8E1F4A37@example.com>'
}

/** What the new-request fixture says, and what each reply fixture adds above its quote. */
const newRequestText = 'Hello,\n\nThe printer on the third floor (HP LaserJet 4050) jams on the second page of every print job. The first page comes out fine.\n\nWe already replaced the paper and cleaned the rollers.\n\nKind regards,\nGrace'
const newText = {
  gmail: 'Hi Bob,\n\nIt’s an HP LaserJet 4050 on the third floor, connected by USB. The\njam happens with both trays.\n\nThanks,\nGrace',
  outlookDesktop: 'Hello,\n\nThe paper tray was replaced this morning, but page two still jams. The\ndisplay shows error 13.2 each time.\n\nKind regards,\nGrace',
  thunderbird: 'Hello Bob,\n\nI tried the new driver you linked, but the second page still comes out crumpled – could someone have a look on site?\n\nRegards,\nGrace',
  apple: 'Good afternoon,\n\nThe technician came by at two and the printer works again — thank you all for the quick help!\n\nGrace'
}
const requester = 'grace.hopper@example.com'

/** A mail app for one test: the desk's address set, no background delivery. */
async function mailApp (t: Test, env: Record<string, string> = {}, now?: () => number): Promise<{ app: FastifyInstance, key: string }> {
  const app = await testApp(t, { ...mailEnv, ...env }, { startWorkers: false, now })
  return { app, key: await apiKey(app) }
}

/** Delivers one message by the MTA pipe or the API and checks the answer fits the outcome. */
async function deliver (t: Test, app: FastifyInstance, key: string, channel: Channel, raw: Buffer): Promise<Outcome> {
  if (channel === 'pipe') {
    const run = await pipeMail(app, raw)
    t.equal(run.code, 0, `mail-in exits 0 (stderr: ${run.stderr.trim().slice(0, 300)})`)
    // The last line is the verdict (knex may print warnings before it on MySQL).
    const line = run.stdout.trim().split('\n').at(-1) ?? ''
    const ignored = /^ignored: (.+)$/.exec(line)
    if (ignored) return { outcome: 'ignored', reason: ignored[1] }
    const handled = /^(ticket|reply|note): ticket (\d+)$/.exec(line)
    t.ok(handled, `mail-in reports what it did: ${JSON.stringify(line)}`)
    return { outcome: handled?.[1] ?? 'unknown', ticketNumber: handled?.[2] }
  }
  const answer = await postMail(app, raw, key)
  t.equal(answer.status, answer.body.outcome === 'ignored' ? 202 : 201, `API status fits ${JSON.stringify(answer.body)}`)
  return answer.body as Outcome
}

async function ticketByNumber (app: FastifyInstance, number: string | undefined): Promise<Record<string, any>> {
  const ticket = await app.db('tickets').where({ number: number ?? '' }).first()
  if (!ticket) throw new Error(`no ticket ${number}`)
  return ticket
}

async function entriesOf (app: FastifyInstance, ticketId: number): Promise<Array<Record<string, any>>> {
  return await app.db('thread_entries').where({ ticket_id: ticketId }).orderBy('id')
}

async function requesterOf (app: FastifyInstance, ticket: Record<string, any>): Promise<Record<string, any>> {
  return await app.db('requesters').where({ id: ticket.requester_id }).first()
}

/** How many rows the tables mail can add to hold. */
async function counts (app: FastifyInstance): Promise<Record<string, number>> {
  const count = async (table: string): Promise<number> => Number((await app.db(table).count({ n: '*' }).first())?.n ?? 0)
  return { tickets: await count('tickets'), entries: await count('thread_entries'), outbox: await count('outbox'), events: await count('events'), requesters: await count('requesters') }
}

function references (mail: ParsedMail): string[] {
  return [mail.references ?? []].flat()
}

/** Opens a ticket from the new-request fixture, by the API. */
async function openByMail (t: Test, app: FastifyInstance, key: string): Promise<Record<string, any>> {
  const result = await deliver(t, app, key, 'api', fixture('new-request'))
  t.equal(result.outcome, 'ticket')
  return await ticketByNumber(app, result.ticketNumber)
}

t.test('the fixtures keep CRLF line endings, as mail on the wire has', async (t) => {
  const files = readdirSync(mailFixturesDir).filter((file) => file.endsWith('.eml'))
  t.ok(files.length >= 15, `${files.length} fixtures`)
  for (const file of files) {
    const text = rawFixture(file.replace(/\.eml$/, '')).toString('latin1')
    t.notOk(/(^|[^\r])\n/.test(text), `${file}: every line ends in CRLF`)
  }
})

for (const channel of channels) {
  t.test(`${channel}: a new message opens a ticket for its sender and queues the receipt`, async (t) => {
    const { app, key } = await mailApp(t)
    const result = await deliver(t, app, key, channel, fixture('new-request'))
    t.equal(result.outcome, 'ticket')
    t.match(result.ticketNumber, /^\d{6,12}$/)

    const ticket = await ticketByNumber(app, result.ticketNumber)
    t.equal(ticket.subject, 'Printer jams on page two')
    t.equal(ticket.status, 'open')
    const person = await requesterOf(app, ticket)
    t.equal(person.email, requester, 'the requester is the sender, address in lower case')
    t.equal(person.name, 'Hopper, Grace', 'named as the From header names them')

    const entries = await entriesOf(app, ticket.id)
    t.equal(entries.length, 1)
    t.equal(entries[0]!.kind, 'message')
    t.equal(entries[0]!.requester_id, person.id)
    t.ok(String(entries[0]!.body).startsWith(newRequestText), 'the body is the text part of the message')
    t.notMatch(entries[0]!.body, /<\/?(p|html|div|o:p)\b/i, 'not its HTML part')
    t.equal(entries[0]!.message_id, ids.newRequest, 'the Message-ID is kept for threading')

    const outbox = await app.db('outbox').where({ ticket_id: ticket.id })
    t.same(outbox.map((row) => [row.template, row.to_address, row.status]), [['ticket_received', requester, 'queued']], 'the receipt is queued for the sender')

    const seen = await app.db('inbound_messages').where({ message_id: ids.newRequest }).first()
    t.equal(seen.outcome, 'processed')
    t.equal(seen.ticket_id, ticket.id)
  })
}

for (const channel of channels) {
  t.test(`${channel}: open, agent replies by mail, requester replies from Gmail: the answer lands on the ticket, trimmed`, async (t) => {
    const smtp = await smtpServer(t)
    const { app, key } = await mailApp(t, { SMTP_URL: smtp.url })
    const desk = await seedDesk(app)
    const ticket = await openByMail(t, app, key)
    t.equal(ticket.department_id, desk.departments.support)

    await app.outbox.runOnce()
    const receipt = smtp.messages.find((m) => m.envelopeTo.includes(requester))
    t.ok(receipt, 'the requester got the receipt')
    t.equal(receipt!.parsed.inReplyTo, ids.newRequest, 'the receipt answers the requester\'s message')
    t.same(references(receipt!.parsed), [ids.newRequest])

    await app.lifecycle.addResponse(await ticketRow(app, ticket.id), await asAgent(app, desk.agents.bob.id), { body: 'Which printer model is it, and does it happen with both trays?' })
    await app.outbox.runOnce()
    const answers = smtp.messages.filter((m) => m.envelopeTo.includes(requester) && m.parsed.subject === `[#${ticket.number}] Printer jams on page two`)
    t.equal(answers.length, 1, 'the requester got the agent\'s answer')
    const answer = answers[0]!.parsed
    t.ok(answer.messageId, 'with a Message-ID')
    t.not(answer.messageId, receipt!.parsed.messageId)
    t.ok(answer.inReplyTo, 'an In-Reply-To, since there was earlier mail')
    t.ok(references(answer).includes(ids.newRequest), 'References name the requester\'s first message')
    t.ok(references(answer).includes(receipt!.parsed.messageId!), 'and the receipt')
    t.notOk(references(answer).includes(answer.messageId!), 'but not itself')
    t.match(answer.text, 'Which printer model is it, and does it happen with both trays?', 'a text part with the answer')
    t.match(answer.text, replyMarker)
    t.type(answer.html, 'string', 'and an HTML part')
    t.match(answer.html, 'Which printer model is it, and does it happen with both trays?')
    t.equal(answer.headers.get('auto-submitted'), undefined, 'a person\'s answer is not marked automatic')

    const reply = fixture('gmail-reply', {
      IN_REPLY_TO: answer.messageId!,
      REFERENCES: [...references(answer), answer.messageId!].join('\r\n '),
      NUMBER: ticket.number,
      REQUESTER: requester
    })
    const result = await deliver(t, app, key, channel, reply)
    t.same(result, { outcome: 'reply', ticketNumber: ticket.number }, 'the reply joins the same ticket')

    const entries = await entriesOf(app, ticket.id)
    t.same(entries.map((e) => e.kind), ['message', 'response', 'message'])
    const last = entries[2]!
    t.equal(last.requester_id, ticket.requester_id, 'written by the requester')
    t.equal(last.body, newText.gmail, 'quoted history and signature are trimmed')
    t.equal(last.message_id, ids.gmail)
    t.type(last.original_body, 'string', 'the message as received is kept')
    t.match(last.original_body, newText.gmail)
    t.match(last.original_body, `> ${replyMarker}`)
    t.match(last.original_body, 'Grace Hopper\nOperations, Building 4')
    const after = await ticketByNumber(app, ticket.number)
    t.equal(after.status, 'open')
    t.notOk(Boolean(after.answered), 'the ticket waits for the desk again')

    // Replying to the older receipt, with the [#number] edited out of the subject: only the
    // Message-ID it quotes ties it to the ticket.
    const tokenless = withHeader(fixture('apple-mail-reply', {
      IN_REPLY_TO: receipt!.parsed.messageId!,
      REFERENCES: `${ids.newRequest} ${receipt!.parsed.messageId!}`,
      NUMBER: ticket.number,
      REQUESTER: requester
    }), 'Subject', 'Re: printer on the third floor')
    t.same(await deliver(t, app, key, channel, tokenless), { outcome: 'reply', ticketNumber: ticket.number }, 'a reply found by its In-Reply-To alone')
    t.equal((await entriesOf(app, ticket.id)).at(-1)!.body, newText.apple)
    t.equal(Number((await app.db('tickets').count({ n: '*' }).first())?.n), 1, 'no other ticket was opened')
  })
}

t.test('mail to the requester threads only on mail the requester has seen', async (t) => {
  const clock = testClock()
  const smtp = await smtpServer(t)
  const { app, key } = await mailApp(t, { SMTP_URL: smtp.url }, clock.now)
  const desk = await seedDesk(app)
  const ticket = await openByMail(t, app, key)
  clock.advance(60_000)
  await app.lifecycle.assignTicket(await ticketRow(app, ticket.id), await asAgent(app, desk.agents.ada.id), { agentId: desk.agents.bob.id, teamId: null })
  clock.advance(60_000)
  await app.outbox.runOnce()
  clock.advance(60_000)
  await app.lifecycle.addResponse(await ticketRow(app, ticket.id), await asAgent(app, desk.agents.bob.id), { body: 'Which printer model is it?' })
  clock.advance(60_000)
  await app.outbox.runOnce()

  const toRequester = smtp.messages.filter((m) => m.envelopeTo.includes(requester))
  t.equal(toRequester.length, 2, 'the receipt and the answer')
  const answer = toRequester.find((m) => !m.parsed.subject?.includes('We received'))!.parsed
  const seenByRequester = new Set([ids.newRequest, ...toRequester.map((m) => m.parsed.messageId!)])
  const toAgents = smtp.messages.filter((m) => !m.envelopeTo.includes(requester)).map((m) => m.parsed.messageId)
  t.ok(toAgents.length >= 2, 'agents were told about the new and the assigned ticket')
  t.ok(seenByRequester.has(answer.inReplyTo ?? ''), `In-Reply-To ${answer.inReplyTo} is a message the requester has, not an agent's notice`)
  t.same(references(answer).filter((id) => !seenByRequester.has(id)), [], 'References name no mail sent only to agents')
})

t.test('a reply matched only by [#number] in the subject', async (t) => {
  const { app, key } = await mailApp(t)
  const ticket = await openByMail(t, app, key)
  const before = await entriesOf(app, ticket.id)

  t.test('from the requester\'s address opens a new ticket: a From line and a number are easily forged', async (t) => {
    const raw = fixture('outlook-desktop-reply', { IN_REPLY_TO: '', REFERENCES: '', NUMBER: ticket.number, REQUESTER: 'Grace.Hopper@EXAMPLE.com' })
    t.notMatch(raw.toString('latin1'), /^(In-Reply-To|References):/im, 'the reply quotes no Message-ID')
    const result = await deliver(t, app, key, 'api', raw)
    t.equal(result.outcome, 'ticket')
    t.not(result.ticketNumber, ticket.number)
    const opened = await ticketByNumber(app, result.ticketNumber)
    t.equal((await requesterOf(app, opened)).email, requester, 'filed under the address it claims, where the desk can merge it')
    t.match((await entriesOf(app, opened.id))[0]!.body, newText.outlookDesktop)
    t.same(await entriesOf(app, ticket.id), before, 'nothing was added to the ticket it names')
  })

  t.test('(while a reply quoting the requester\'s own first message needs no number)', async (t) => {
    const raw = withHeader(fixture('thunderbird-reply', { IN_REPLY_TO: ids.newRequest, REFERENCES: ids.newRequest, NUMBER: ticket.number, REQUESTER: requester }), 'Subject', 'Re: Printer jams on page two')
    t.same(await deliver(t, app, key, 'api', raw), { outcome: 'reply', ticketNumber: ticket.number })
    t.equal((await entriesOf(app, ticket.id)).at(-1)!.body, newText.thunderbird)
  })

  t.test('from a stranger opens a new ticket and leaves this one alone', async (t) => {
    const stranger = 'mallory@attacker.example'
    const countBefore = (await entriesOf(app, ticket.id)).length
    const raw = withHeader(fixture('outlook-desktop-reply', { IN_REPLY_TO: '', REFERENCES: '', NUMBER: ticket.number, REQUESTER: stranger }), 'Message-ID', '<stranger.1@attacker.example>')
    const result = await deliver(t, app, key, 'api', raw)
    t.equal(result.outcome, 'ticket')
    t.not(result.ticketNumber, ticket.number)
    const opened = await ticketByNumber(app, result.ticketNumber)
    t.equal((await requesterOf(app, opened)).email, stranger)
    t.equal((await entriesOf(app, ticket.id)).length, countBefore, 'nothing was added to the requester\'s ticket')
  })

  t.test('from someone else who quotes the ticket\'s Message-ID (a colleague in Cc), they join the ticket as a participant', async (t) => {
    const countBefore = (await entriesOf(app, ticket.id)).length
    const raw = withHeader(fixture('outlook-desktop-reply', { IN_REPLY_TO: ids.newRequest, REFERENCES: ids.newRequest, NUMBER: ticket.number, REQUESTER: 'eve@elsewhere.example' }), 'Message-ID', '<stranger.2@elsewhere.example>')
    const result = await deliver(t, app, key, 'api', raw)
    t.same(result, { outcome: 'reply', ticketNumber: ticket.number }, 'no new ticket')
    t.equal((await entriesOf(app, ticket.id)).length, countBefore + 1)
    t.ok(await app.db('ticket_participants').where({ ticket_id: ticket.id, email: 'eve@elsewhere.example' }).first())
  })

  t.test('from the requester with a number that is no ticket, a new ticket', async (t) => {
    const missing = ticket.number === '999999' ? '999998' : '999999'
    const raw = withHeader(fixture('outlook-desktop-reply', { IN_REPLY_TO: '', REFERENCES: '', NUMBER: missing, REQUESTER: requester }), 'Message-ID', '<missing.1@example.com>')
    const result = await deliver(t, app, key, 'api', raw)
    t.equal(result.outcome, 'ticket')
    t.not(result.ticketNumber, ticket.number)
  })
})

t.test('forged mail: a From line alone never speaks for an agent or a requester', async (t) => {
  const { app, key } = await mailApp(t)
  const desk = await seedDesk(app)
  const ticket = await openByMail(t, app, key)
  await app.outbox.runOnce()
  const toBob = await app.db('outbox').where({ ticket_id: ticket.id, template: 'new_ticket', to_address: desk.agents.bob.email }).first()
  const toRequester = await app.db('outbox').where({ ticket_id: ticket.id, template: 'ticket_received' }).first()
  const before = await entriesOf(app, ticket.id)
  const ticketsBefore = Number((await counts(app)).tickets)
  const forged = (vars: { from: string, quotes: string }, id: string): Buffer =>
    withHeader(fixture('forged-reply', { REQUESTER: vars.from, NUMBER: ticket.number, IN_REPLY_TO: vars.quotes, REFERENCES: vars.quotes }), 'Message-ID', `<${id}@attacker.example>`)

  const cases: Array<[string, { from: string, quotes: string }]> = [
    ['an agent\'s address with only the [#number]', { from: desk.agents.bob.email, quotes: '' }],
    ['an agent\'s address quoting the requester\'s own Message-ID', { from: desk.agents.bob.email, quotes: ids.newRequest }],
    ['an agent\'s address quoting our receipt to the requester', { from: desk.agents.bob.email, quotes: toRequester.message_id }],
    ['an agent\'s address quoting our notice to another agent', { from: desk.agents.ada.email, quotes: toBob.message_id }],
    ['an agent\'s address quoting one of our ids with its signature forged', { from: desk.agents.bob.email, quotes: toBob.message_id.replace(/\.([0-9a-f]{16})@/, '.0000000000000000@') }],
    ['the requester\'s address quoting our notice to an agent', { from: requester, quotes: toBob.message_id }]
  ]
  for (const [i, [name, vars]] of cases.entries()) {
    const result = await deliver(t, app, key, 'api', forged(vars, `forged.${i}`))
    t.equal(result.outcome, 'ticket', `${name}: a new ticket`)
    t.not(result.ticketNumber, ticket.number, `${name}: not the ticket it names`)
  }
  t.same(await entriesOf(app, ticket.id), before, 'no note and no reply was written on the ticket')
  t.equal((await counts(app)).tickets, ticketsBefore + cases.length, 'each forged message opened a ticket of its own, for an agent to judge')

  const genuine = withHeader(fixture('forged-reply', { REQUESTER: desk.agents.bob.email, NUMBER: ticket.number, IN_REPLY_TO: toBob.message_id, REFERENCES: toBob.message_id }), 'Message-ID', '<bob.real@desk.test>')
  t.same(await deliver(t, app, key, 'api', genuine), { outcome: 'note', ticketNumber: ticket.number }, 'while Bob answering the notice we sent him writes a note')
})

t.test('text from mail is cleaned like text from forms: no control characters, no broken emoji', async (t) => {
  const { app, key } = await mailApp(t)
  const result = await deliver(t, app, key, 'api', fixture('control-characters'))
  t.equal(result.outcome, 'ticket')
  const ticket = await ticketByNumber(app, result.ticketNumber)
  t.equal(ticket.subject, 'Printerjams 😀', 'the NUL is gone from the subject')
  t.equal((await requesterOf(app, ticket)).name, 'Grace Hopper 😀😀')
  const [entry] = await entriesOf(app, ticket.id)
  t.equal(entry!.body, 'Line one with a NUL\nLine two with a bell\nLine three\tend[31m red\nC1 next line',
    'NUL, bell, escape and DEL removed; CRLF, CR and NEL made newlines; tabs kept')

  const long = plainMessage({
    From: `${'n'.repeat(119)}😀😀 <long.name@example.com>`,
    Subject: `${'s'.repeat(199)}😀😀`,
    'Message-ID': '<long.1@example.com>'
  }, `${'b'.repeat(99_999)}😀😀\r\n`)
  const cut = await ticketByNumber(app, (await deliver(t, app, key, 'pipe', long)).ticketNumber)
  t.equal(cut.subject, `${'s'.repeat(199)}😀`, 'a subject is cut at 200 code points, the emoji whole')
  t.equal((await requesterOf(app, cut)).name, `${'n'.repeat(119)}😀`, 'and a name at 120')
  const [body] = await entriesOf(app, cut.id)
  t.equal(body!.body, `${'b'.repeat(99_999)}😀`, 'and a body at 100,000')
  for (const text of [cut.subject, body!.body]) t.notMatch(text, '\uFFFD', 'with no replacement character')
})

t.test('mail from an agent about a ticket becomes an internal note, never a response', async (t) => {
  const { app, key } = await mailApp(t)
  const desk = await seedDesk(app)
  const ticket = await openByMail(t, app, key)
  // Without SMTP the outbox writes .eml files, and records each Message-ID as it goes.
  await app.outbox.runOnce()
  const notice = await app.db('outbox').where({ ticket_id: ticket.id, template: 'new_ticket', to_address: desk.agents.bob.email }).first()
  t.ok(notice?.message_id, 'Bob was told about the ticket')
  const toRequesterBefore = (await app.db('outbox').where({ to_address: requester })).length

  const raw = fixture('thunderbird-reply', { IN_REPLY_TO: notice.message_id, REFERENCES: `${ids.newRequest} ${notice.message_id}`, NUMBER: ticket.number, REQUESTER: desk.agents.bob.email })
  const result = await deliver(t, app, key, 'pipe', raw)
  t.same(result, { outcome: 'note', ticketNumber: ticket.number })

  const entries = await entriesOf(app, ticket.id)
  t.same(entries.map((e) => e.kind), ['message', 'note'])
  const note = entries[1]!
  t.equal(note.agent_id, desk.agents.bob.id, 'written by Bob')
  t.equal(note.requester_id, null)
  t.equal(note.body, newText.thunderbird, 'trimmed like any reply')
  t.equal(note.message_id, ids.thunderbird)
  t.match(note.original_body, `> ${replyMarker}`)

  const bySubject = withHeader(fixture('apple-mail-reply', { IN_REPLY_TO: '', REFERENCES: '', NUMBER: ticket.number, REQUESTER: desk.agents.bob.email }), 'Message-ID', '<bob.2@desk.test>')
  const bySubjectResult = await deliver(t, app, key, 'api', bySubject)
  t.not(bySubjectResult.ticketNumber, ticket.number, 'the subject token alone does not make mail from an agent\'s address a note')

  // Ned works in Billing and may not see this Support ticket.
  const fromNed = withHeader(fixture('outlook-desktop-reply', { IN_REPLY_TO: '', REFERENCES: '', NUMBER: ticket.number, REQUESTER: desk.agents.ned.email }), 'Message-ID', '<ned.1@desk.test>')
  const nedResult = await deliver(t, app, key, 'api', fromNed)
  t.not(nedResult.ticketNumber, ticket.number, `an agent who may not see the ticket cannot write on it (${JSON.stringify(nedResult)})`)

  const after = await ticketByNumber(app, ticket.number)
  t.same((await entriesOf(app, ticket.id)).map((e) => e.kind), ['message', 'note'], 'no response was written')
  t.notOk(Boolean(after.answered), 'the ticket is not marked answered')
  t.equal(after.first_response_at, null, 'a note is no first response')
  t.equal((await app.db('outbox').where({ to_address: requester })).length, toRequesterBefore, 'nothing was sent to the requester')
})

t.test('a reply to a closed ticket reopens it within the reopen window, and starts a follow-up after it', async (t) => {
  const clock = testClock()
  const { app, key } = await mailApp(t, { REOPEN_WINDOW_DAYS: '14' }, clock.now)
  const ticket = await openByMail(t, app, key)
  const day = 86_400_000

  clock.advance(day)
  await app.lifecycle.closeTicket(await ticketRow(app, ticket.id), system)
  clock.advance(3 * day)
  const first = fixture('gmail-reply', { IN_REPLY_TO: ids.newRequest, REFERENCES: ids.newRequest, NUMBER: ticket.number, REQUESTER: requester })
  t.same(await deliver(t, app, key, 'api', first), { outcome: 'reply', ticketNumber: ticket.number }, 'three days after closing: the same ticket')
  let current = await ticketByNumber(app, ticket.number)
  t.equal(current.status, 'open', 'reopened')
  t.equal(current.closed_at, null)
  t.equal((await entriesOf(app, ticket.id)).at(-1)!.body, newText.gmail)

  await app.lifecycle.closeTicket(await ticketRow(app, ticket.id), system)
  clock.advance(15 * day)
  const late = fixture('apple-mail-reply', { IN_REPLY_TO: ids.gmail, REFERENCES: `${ids.newRequest} ${ids.gmail}`, NUMBER: ticket.number, REQUESTER: requester })
  const result = await deliver(t, app, key, 'api', late)
  t.equal(result.outcome, 'ticket', 'fifteen days after closing: a new ticket')
  t.not(result.ticketNumber, ticket.number)
  current = await ticketByNumber(app, ticket.number)
  t.equal(current.status, 'closed', 'the old ticket stays closed')
  t.equal((await entriesOf(app, ticket.id)).length, 2, 'and gets nothing')

  const followUp = await ticketByNumber(app, result.ticketNumber)
  t.equal(followUp.follows_ticket_id, ticket.id, 'the new ticket follows the old one')
  t.equal(followUp.requester_id, ticket.requester_id)
  t.equal(followUp.subject, ticket.subject)
  t.equal(followUp.status, 'open')
  const entries = await entriesOf(app, followUp.id)
  t.equal(entries.length, 1)
  t.equal(entries[0]!.body, newText.apple, 'its first message is the reply, trimmed')
  t.equal(entries[0]!.message_id, ids.apple)
  t.match(entries[0]!.original_body, `> ${replyMarker}`)
  t.same((await app.db('outbox').where({ ticket_id: followUp.id })).map((row) => [row.template, row.to_address]), [['ticket_received', requester]])
})

t.test('auto-replies and bounces create nothing', async (t) => {
  const { app, key } = await mailApp(t)
  const ticket = await openByMail(t, app, key)
  await app.outbox.runOnce()
  const receipt = await app.db('outbox').where({ ticket_id: ticket.id, template: 'ticket_received' }).first()
  t.ok(receipt?.message_id)
  const vars: FixtureVars = { IN_REPLY_TO: receipt.message_id, REFERENCES: `${ids.newRequest} ${receipt.message_id}`, NUMBER: ticket.number, REQUESTER: requester }
  const before = await counts(app)

  const cases: Array<[string, Channel, RegExp]> = [
    ['auto-reply', 'pipe', /auto-submitted/i],
    ['out-of-office', 'api', /auto-reply/i],
    ['bounce', 'api', /bounce|report/i]
  ]
  for (const [name, channel, reason] of cases) {
    const result = await deliver(t, app, key, channel, fixture(name, vars))
    t.equal(result.outcome, 'ignored', `${name} (${channel}) is ignored`)
    t.match(result.reason, reason, `${name}: ${result.reason}`)
  }
  t.same(await counts(app), before, 'no ticket, entry, event, requester or outbox row was added')
  const seen = await app.db('inbound_messages').where({ outcome: 'ignored' })
  t.equal(seen.length, cases.length, 'each is recorded as seen and ignored')
})

t.test('each sign of machine-made mail is enough on its own', async (t) => {
  const { app, key } = await mailApp(t)
  const signs: Array<[string, Record<string, string>]> = [
    ['Auto-Submitted: auto-replied', { 'Auto-Submitted': 'auto-replied' }],
    ['Auto-Submitted: auto-generated', { 'Auto-Submitted': 'auto-generated' }],
    ['X-Autoreply', { 'X-Autoreply': 'yes' }],
    ['X-Autorespond', { 'X-Autorespond': 'Out of office' }],
    ['Precedence: bulk', { Precedence: 'bulk' }],
    ['Precedence: junk', { Precedence: 'junk' }],
    ['an empty Return-Path (null sender)', { 'Return-Path': '<>' }],
    ['From MAILER-DAEMON', { From: 'Mail Delivery System <MAILER-DAEMON@mx.example.com>' }],
    ['From postmaster', { From: 'postmaster@example.com' }],
    ['multipart/report', { 'Content-Type': 'multipart/report; report-type=delivery-status; boundary="r"' }],
    ['our own address (a loop)', { From: `Tessera Help Desk <${deskAddress}>` }]
  ]
  for (const [sign, headers] of signs) {
    t.test(sign, async (t) => {
      const body = headers['Content-Type']?.startsWith('multipart/report')
        ? '--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--r--\r\n'
        : undefined
      const before = await counts(app)
      const result = await deliver(t, app, key, 'api', plainMessage(headers, body))
      t.equal(result.outcome, 'ignored', `ignored (${result.reason ?? `became a ${result.outcome}`})`)
      t.same(await counts(app), before, 'no ticket, entry or outbox row')
    })
  }

  t.test('while Auto-Submitted: no and an ordinary Return-Path are a person\'s mail', async (t) => {
    const person = await deliver(t, app, key, 'api', plainMessage({ 'Auto-Submitted': 'no', 'Return-Path': '<grace@example.com>' }))
    t.equal(person.outcome, 'ticket')
  })
})

t.test('the same message delivered twice is processed once, whichever way it comes', async (t) => {
  const { app, key } = await mailApp(t)
  const raw = fixture('new-request')
  const first = await deliver(t, app, key, 'pipe', raw)
  t.equal(first.outcome, 'ticket')
  const afterFirst = await counts(app)

  const again = await postMail(app, raw, key)
  t.equal(again.status, 202)
  t.same(again.body, { outcome: 'ignored', reason: 'duplicate Message-ID' })
  const third = await deliver(t, app, key, 'pipe', withHeader(raw, 'Received', 'from backup-mx.desk.test by mx.desk.test; Thu, 26 Nov 2026 09:30:00 +0000'))
  t.same(third, { outcome: 'ignored', reason: 'duplicate Message-ID' }, 'also when a second MX added a header on the way')
  t.same(await counts(app), afterFirst, 'one ticket, one message, one receipt')

  const anonymous = withHeader(plainMessage({ Subject: 'No Message-ID here' }), 'Message-ID', null)
  t.equal((await deliver(t, app, key, 'api', anonymous)).outcome, 'ticket')
  t.same(await deliver(t, app, key, 'api', anonymous), { outcome: 'ignored', reason: 'duplicate Message-ID' }, 'without a Message-ID the content identifies a redelivery')
  const other = withHeader(plainMessage({ Subject: 'Another one without Message-ID' }), 'Message-ID', null)
  t.equal((await deliver(t, app, key, 'api', other)).outcome, 'ticket', 'while different content is a different message')
  t.equal((await counts(app)).tickets, afterFirst.tickets! + 2)
})

t.test('odd charsets come out as correct Unicode text', async (t) => {
  const { app, key } = await mailApp(t)
  const cases: Array<{ name: string, channel: Channel, subject: string, from: [string, string], body: string }> = [
    {
      name: 'iso-8859-1',
      channel: 'api',
      subject: 'Problème d\'impression à l\'étage',
      from: ['Françoise Martin', 'francoise.martin@example.fr'],
      body: 'Bonjour,\n\nL\'imprimante de l\'étage refuse d\'imprimer la deuxième page. Le voyant\nclignote en orange ; j\'ai déjà redémarré l\'appareil deux fois.\n\nMerci d\'avance,\nFrançoise'
    },
    {
      name: 'windows-1252',
      channel: 'pipe',
      subject: 'Invoice €49.90 – “double charged”',
      from: ['Renée Dubois', 'renee.dubois@example.com'],
      body: 'Hello,\n\nYou charged us €49.90 twice for the “Pro” plan – see invoice 2026-1142. We’d like a refund of the second charge…\n\nThanks,\nRenée'
    },
    {
      name: 'shift-jis',
      channel: 'api',
      subject: 'プリンターの紙詰まりについて',
      from: ['田中 太郎', 'tanaka@example.jp'],
      body: 'お世話になっております。経理部の田中です。\n\n３階のプリンターで、２ページ目が毎回紙詰まりします。\n用紙は新しいものに交換済みです。\n\nよろしくお願いいたします。\n田中'
    }
  ]
  for (const c of cases) {
    const result = await deliver(t, app, key, c.channel, fixture(c.name))
    t.equal(result.outcome, 'ticket', c.name)
    const ticket = await ticketByNumber(app, result.ticketNumber)
    t.equal(ticket.subject, c.subject, `${c.name}: the encoded-word subject is decoded`)
    const person = await requesterOf(app, ticket)
    t.same([person.name, person.email], c.from, `${c.name}: the sender's name is decoded`)
    const [entry] = await entriesOf(app, ticket.id)
    t.equal(entry!.body, c.body, `${c.name}: the body is decoded`)
  }
})

t.test('an HTML-only message is stored as readable text and never shown as live markup', async (t) => {
  const { app, key } = await mailApp(t)
  const result = await deliver(t, app, key, 'api', fixture('html-only'))
  t.equal(result.outcome, 'ticket')
  const ticket = await ticketByNumber(app, result.ticketNumber)
  const [entry] = await entriesOf(app, ticket.id)
  const body = String(entry!.body)
  const prose = body.replace(/\s+/g, ' ')
  t.match(prose, 'Hello, Order 88213 arrived today, but the café table in it is broken & the box was soaked.', 'the paragraphs read as text, entities decoded')
  t.match(prose, 'Table top: cracked')
  t.match(prose, 'Could you send a replacement? Thank you, Dana')
  t.notMatch(body, /<\/?[a-z][^>]*>/i, 'no tags are stored')
  t.notMatch(body, /alert|document\.cookie|evil\.example|tessera-xss|tessera-onload/, 'nor any script')
  t.notMatch(body, /font-family|Georgia/, 'nor the style sheet')
  t.notMatch(body, /&(amp|eacute|lt|gt);/, 'nor raw entities')

  const receipt = await app.db('outbox').where({ ticket_id: ticket.id, template: 'ticket_received' }).first()
  const token = await tokenInSentMail(app, receipt.id)
  const page = await new Visitor(app).get(`/tickets/${ticket.number}/access/${token}`)
  t.equal(page.status, 200)
  t.match(page.text, 'Order 88213 arrived today', 'the requester sees the message')
  t.notMatch(page.html, /tessera-xss|tessera-onload|evil\.example/, 'and none of its script')
  page.$('script').each((_, el) => { t.notMatch(page.$(el).html() ?? '', /88213|cookie/, 'no script element carries mail content') })
})

t.test('a huge message is accepted and cut to the limit, by either way in', async (t) => {
  const { app, key } = await mailApp(t)
  const line = 'The printer on the third floor jams on page two, again and again and again.\n'
  const text = Array.from({ length: Math.ceil(3 * 1024 * 1024 / line.length) }, (_, i) => `${String(i).padStart(6, '0')} ${line}`).join('')
  t.ok(text.length > 3 * 1024 * 1024)
  const make = (id: string): Buffer => plainMessage({ Subject: `Huge log ${'x'.repeat(400)}`, 'Message-ID': `<${id}@example.com>` }, text.replace(/\n/g, '\r\n'))

  for (const channel of channels) {
    t.test(channel, async (t) => {
      const result = await deliver(t, app, key, channel, make(`huge.${channel}`))
      t.equal(result.outcome, 'ticket', 'accepted')
      const ticket = await ticketByNumber(app, result.ticketNumber)
      t.equal(ticket.subject.length, maxSubjectLength, 'the subject is cut to fit')
      t.ok(ticket.subject.startsWith('Huge log xxx'))
      const [entry] = await entriesOf(app, ticket.id)
      t.equal(entry!.body.length, maxBodyLength, 'the body is cut to the limit')
      t.equal(entry!.body, text.slice(0, maxBodyLength), 'and is the start of the message')
    })
  }

  const tooBig = Buffer.alloc(26 * 1024 * 1024, 'a')
  const refused = await app.inject({ method: 'POST', url: '/api/v1/mail/inbound', headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${key}` }, payload: tooBig })
  t.equal(refused.statusCode, 413, 'over 25 MB the API refuses the message')
  const after = await postMail(app, fixture('new-request'), key)
  t.equal(after.status, 201, 'and goes on taking mail')
})

t.test('mail to a department\'s address opens the ticket in that department', async (t) => {
  const { app, key } = await mailApp(t)
  const desk = await seedDesk(app)
  await setDepartmentAddress(app, desk.departments.billing, 'billing@desk.test')

  const cases: Array<[string, Buffer, number, number | null]> = [
    ['To: the department', fixture('to-billing'), desk.departments.billing, desk.topics.billing],
    ['Cc: the department, mixed case', withHeader(withHeader(fixture('to-billing'), 'To', 'Northwind Team <team@northwind.example>'), 'Cc', 'Billing <Billing@Desk.Test>'), desk.departments.billing, desk.topics.billing],
    ['only Delivered-To: the department', withHeader(withHeader(fixture('to-billing'), 'To', 'undisclosed-recipients:;'), 'Delivered-To', 'billing@desk.test'), desk.departments.billing, desk.topics.billing],
    ['the desk\'s general address', fixture('new-request'), desk.departments.support, null]
  ]
  let n = 0
  for (const [name, raw, department, topic] of cases) {
    const result = await deliver(t, app, key, 'api', withHeader(raw, 'Message-ID', `<dept.${n++}@northwind.example>`))
    t.equal(result.outcome, 'ticket', name)
    const ticket = await ticketByNumber(app, result.ticketNumber)
    t.equal(ticket.department_id, department, `${name}: department`)
    if (topic !== null) t.equal(ticket.help_topic_id, topic, `${name}: under the department's help topic`)
  }
})

t.test('the API takes mail only with a valid key', async (t) => {
  const { app, key } = await mailApp(t)
  const raw = fixture('new-request')
  const attempts: Array<[string, string | null]> = [
    ['no key', null],
    ['a wrong key', `tsk_${'A'.repeat(32)}`],
    ['a malformed key', 'not-a-key'],
    ['the key with a letter changed', key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')]
  ]
  for (const [name, attempt] of attempts) {
    const answer = await postMail(app, raw, attempt)
    t.equal(answer.status, 401, name)
    t.equal(answer.body.error?.code, 'TESSERA_UNAUTHORIZED', name)
    t.equal(answer.headers['www-authenticate'], 'Bearer')
  }
  const basic = await app.inject({ method: 'POST', url: '/api/v1/mail/inbound', headers: { 'content-type': 'message/rfc822', authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}` }, payload: raw })
  t.equal(basic.statusCode, 401, 'Basic authentication is not a key')
  t.same(await counts(app), { tickets: 0, entries: 0, outbox: 0, events: 0, requesters: 0 }, 'nothing was processed')
  t.equal((await app.db('inbound_messages')).length, 0, 'not even recorded as seen')

  const empty = await app.inject({ method: 'POST', url: '/api/v1/mail/inbound', headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${key}` }, payload: '' })
  t.equal(empty.statusCode, 415, 'an empty body is refused')

  const accepted = await postMail(app, raw, key)
  t.equal(accepted.status, 201, 'with the key, the same message is taken')
  t.equal(accepted.body.outcome, 'ticket')
})

t.test('mail-in with nothing on standard input exits 65 and changes nothing', async (t) => {
  const { app } = await mailApp(t)
  const run = await pipeMail(app, Buffer.alloc(0))
  t.equal(run.code, 65)
  t.match(run.stderr, /no message/i)
  t.equal((await counts(app)).tickets, 0)
  t.equal((await app.db('inbound_messages')).length, 0)
})
