import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { listOutbox } from '../../../src/data/outbox.js'
import { findTicketByNumber } from '../../../src/data/tickets.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn, type Desk } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { deskAddress, mailEnv, plainMessage } from '../../helpers/mail.js'
import { smtpServer } from '../../helpers/smtp.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

/** A person following the private link from their e-mail: their browser, on their ticket. */
async function requesterPage (app: FastifyInstance, number: string, token: string): Promise<{ browser: Visitor, page: Page }> {
  const browser = new Visitor(app)
  const page = await browser.get(`/tickets/${number}/access/${token}`)
  if (page.status !== 200) throw new Error(`private link for ${number} answered ${page.status}`)
  return { browser, page }
}

/** Ada, on `source`'s staff page, merges it into `target` with the merge form. */
async function mergeByHand (app: FastifyInstance, desk: Desk, source: string, target: string): Promise<Page> {
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.get(`/staff/tickets/${source}`)
  return await ada.submit(page, `form[action="/staff/tickets/${source}/merge"]`, { target })
}

t.test('merging one person\'s ticket into another\'s shows neither of them the other\'s messages, on their pages or in their mail', async (t) => {
  const smtp = await smtpServer(t)
  const app = await testApp(t, { ...mailEnv, SMTP_URL: smtp.url }, { startWorkers: false })
  const desk = await seedDesk(app)
  const carol = await app.lifecycle.openTicket({ name: 'Carol Shaw', email: 'carol@example.com', subject: 'VPN drops every hour', message: 'Carol here: the VPN drops at the top of every hour.', helpTopicId: desk.topics.broken })
  // Dan writes in by e-mail, so his message has a Message-ID that could travel in headers.
  const danMessageId = '<dan-first@mail.example.org>'
  const danMail = await app.inbound.receive(plainMessage({
    From: 'Dan Brown <dan@example.org>', Subject: 'VPN keeps disconnecting', 'Message-ID': danMessageId
  }, 'My VPN disconnects too. My employee number is 4242 and my home address is 1 Elm Street.\r\n'))
  t.equal(danMail.outcome, 'ticket')
  const dan = (await findTicketByNumber(app.db, (danMail as { ticketNumber: string }).ticketNumber))!
  await app.outbox.runOnce()
  const danReceipt = smtp.messages.find((m) => m.envelopeTo.includes('dan@example.org'))
  const danToken = /\/access\/([A-Za-z0-9_-]{43})/.exec(danReceipt?.parsed.text ?? '')?.[1] ?? ''
  smtp.messages.length = 0

  const merged = await mergeByHand(app, desk, dan.number, carol.ticket.number)
  t.match(merged.text, `Merged into ticket ${carol.ticket.number}.`)

  const { page: carolsPage } = await requesterPage(app, carol.ticket.number, carol.accessToken)
  t.match(carolsPage.text, 'Carol here: the VPN drops')
  t.notMatch(carolsPage.text, '4242', 'Carol never sees Dan\'s message')
  t.notMatch(carolsPage.text, 'Dan Brown', 'nor his name')

  const { browser: dansBrowser, page: dansPage } = await requesterPage(app, dan.number, danToken)
  t.match(dansPage.text, 'My employee number is 4242', 'Dan still reads his own conversation')
  t.match(dansPage.$('.notice.merged').text(), 'merged with a related request our team is already working on')
  t.notMatch(dansPage.text, 'Carol', 'and nothing of Carol\'s')
  t.notMatch(dansPage.text, carol.ticket.number, 'not even her ticket number')

  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  let staffPage = await ada.get(`/staff/tickets/${carol.ticket.number}`)
  const moved = staffPage.$('.entry:contains("employee number is 4242")')
  t.equal(moved.length, 1, 'staff see Dan\'s message on the merged ticket')
  t.match(moved.find('.tag').text(), 'not shown to this requester')

  // Dan answers on his page; the reply reaches staff on the merged ticket, not Carol.
  const replied = await dansBrowser.submit(dansPage, `form[action="/tickets/${dan.number}/replies"]`, { message: 'Dan again: it also drops on Wi-Fi at home.' })
  t.match(replied.text, 'Your reply has been sent.')
  t.match(replied.text, 'Dan again: it also drops on Wi-Fi', 'Dan sees his reply on his page')
  t.notMatch((await requesterPage(app, carol.ticket.number, carol.accessToken)).page.text, 'Dan again')
  staffPage = await ada.get(`/staff/tickets/${carol.ticket.number}`)
  t.match(staffPage.text, 'Dan again: it also drops on Wi-Fi')
  t.equal((await findTicketByNumber(app.db, dan.number))!.status, 'closed', 'Dan\'s merged ticket stays closed')
  t.equal((await findTicketByNumber(app.db, carol.ticket.number))!.status, 'open')

  // Ada answers Carol; her mail carries Ada's words only, and no trace of Dan's mail.
  staffPage = await ada.submit(staffPage, 'form.composer', { message: 'Ada: please update the VPN client to 5.2.' })
  t.match(staffPage.text, 'Reply sent to the requester.')
  await app.outbox.runOnce()
  // Headers and raw body, plus the decoded parts (quoted-printable may wrap a word).
  const wholeMail = (to: string): string[] => smtp.messages.filter((m) => m.envelopeTo.includes(to))
    .map((m) => [m.raw, m.parsed.text, String(m.parsed.html)].join('\n'))
  const toCarol = wholeMail('carol@example.com')
  const toDan = wholeMail('dan@example.org')
  t.equal(toCarol.length, 1)
  t.match(toCarol[0], 'Ada: please update the VPN client')
  t.notMatch(toCarol[0], '4242')
  t.notMatch(toCarol[0], 'Dan')
  t.notMatch(toCarol[0], danMessageId, 'Dan\'s Message-ID is not in Carol\'s References')
  t.equal(toDan.length, 1, 'Dan is told his ticket was merged')
  t.match(toDan[0], `Subject: [#${dan.number}] Merged: VPN keeps disconnecting`)
  t.match(toDan[0], 'was merged with a related request')
  t.notMatch(toDan[0], 'Carol')
  t.notMatch(toDan[0], carol.ticket.number, 'his mail does not name the other ticket')
  t.notMatch(toDan[0], 'Ada: please update', 'and does not carry the answer meant for Carol')

  // Dan answers his own first e-mail: it lands with staff on the merged ticket.
  const byMail = await app.inbound.receive(plainMessage({
    From: 'Dan Brown <dan@example.org>', Subject: 'Re: VPN keeps disconnecting', 'In-Reply-To': danMessageId, References: danMessageId
  }, 'Dan by mail: still broken today.\r\n'))
  t.same(byMail, { outcome: 'reply', ticketNumber: carol.ticket.number })
  t.notMatch((await requesterPage(app, carol.ticket.number, carol.accessToken)).page.text, 'Dan by mail')
  t.match((await ada.get(`/staff/tickets/${carol.ticket.number}`)).text, 'Dan by mail: still broken today.')
  const dansLatest = (await requesterPage(app, dan.number, danToken)).page
  t.match(dansLatest.text, 'Dan by mail: still broken today.', 'and on Dan\'s own page')

  await assertValidDocuments(t, {
    'portal, ticket merged into another person\'s': dansLatest.html,
    'staff, ticket holding another requester\'s messages': (await ada.get(`/staff/tickets/${carol.ticket.number}`)).html
  })
})

t.test('a merged ticket stays merged: its requester\'s replies, on the portal and by e-mail, go to the ticket it was merged into', async (t) => {
  const app = await testApp(t, mailEnv, { startWorkers: false })
  const desk = await seedDesk(app)
  const first = await openTicket(app, desk.topics.broken, 'Printer jams')
  const second = await openTicket(app, desk.topics.broken, 'Printer jams again')

  await mergeByHand(app, desk, second.number, first.number)
  const { browser, page } = await requesterPage(app, second.number, second.token)
  t.match(page.$('.notice.merged').text(), `merged into your ticket ${first.number}`)
  await assertValidDocuments(t, { 'portal, ticket merged into another of the same requester': page.html })
  const [notice] = await listOutbox(app.db, { toAddress: 'grace@example.com' }).then((rows) => rows.filter((row) => row.template === 'ticket_merged'))
  t.equal(JSON.parse(notice!.payload).number, first.number, 'Grace is sent a link to the ticket it went to')

  const replied = await browser.submit(page, `form[action="/tickets/${second.number}/replies"]`, { message: 'Same problem on the second floor.' })
  t.match(replied.text, 'Your reply has been sent.')
  const merged = (await findTicketByNumber(app.db, second.number))!
  t.equal(merged.status, 'closed', 'the reply does not reopen the merged ticket')
  t.equal(merged.merged_into_id, first.id)
  const target = await requesterPage(app, first.number, first.token)
  t.match(target.page.text, 'Same problem on the second floor.', 'the reply is on the ticket it was merged into')
  t.match(target.page.text, 'The second page always jams.')

  // Replies by mail answer a message the desk sent about the merged ticket (a [#number] alone proves nothing).
  await app.outbox.runOnce()
  const sentAbout = async (ticketId: number, to: string): Promise<string> =>
    (await app.db('outbox').where({ ticket_id: ticketId, to_address: to }).whereNotNull('message_id').orderBy('id').first('message_id')).message_id as string
  const toGrace = await sentAbout(second.id, 'grace@example.com')
  const byMail = await app.inbound.receive(plainMessage({ From: 'Grace Hopper <grace@example.com>', Subject: `Re: [#${second.number}] Printer jams again`, 'In-Reply-To': toGrace, References: toGrace }, 'And on the fourth floor.\r\n'))
  t.same(byMail, { outcome: 'reply', ticketNumber: first.number }, 'mail to the merged ticket goes to the same place')
  t.equal((await findTicketByNumber(app.db, second.number))!.status, 'closed')

  const toBob = await sentAbout(second.id, desk.agents.bob.email)
  const agentNote = await app.inbound.receive(plainMessage({ From: `Bob Kahn <${desk.agents.bob.email}>`, To: deskAddress, Subject: `Re: [#${second.number}] note`, 'In-Reply-To': toBob, References: toBob }, 'Bob: same model on both floors.\r\n'))
  t.same(agentNote, { outcome: 'note', ticketNumber: first.number }, 'an agent\'s mail to the merged ticket is a note on the target')
})

t.test('merging into itself, into a merged ticket, a merged ticket, or in a loop is refused with a clear message', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const a = await openTicket(app, desk.topics.broken, 'A')
  const b = await openTicket(app, desk.topics.broken, 'B')
  const c = await openTicket(app, desk.topics.broken, 'C')

  t.match((await mergeByHand(app, desk, a.number, a.number)).text, 'A ticket cannot be merged into itself.')
  t.match((await mergeByHand(app, desk, b.number, a.number)).text, `Merged into ticket ${a.number}.`)

  const loop = await mergeByHand(app, desk, a.number, b.number)
  t.match(loop.text, `Ticket ${b.number} was merged into this one; merging back would make a loop.`)
  const intoMerged = await mergeByHand(app, desk, c.number, b.number)
  t.match(intoMerged.text, `Ticket ${b.number} was itself merged into ticket ${a.number}; merge into ${a.number} instead.`)

  // A merged ticket is not reopened by hand either, and even if older data holds one that
  // was, it cannot be merged a second time.
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const mergedPage = await ada.get(`/staff/tickets/${b.number}`)
  t.equal(mergedPage.$(`form[action="/staff/tickets/${b.number}/reopening"]`).length, 0, 'the merged ticket offers no Reopen')
  t.ok(mergedPage.$(`form[action="/staff/tickets/${b.number}/notes"]`).length > 0, 'but can still be noted')
  const csrf = mergedPage.$('input[name="_csrf"]').first().val() as string
  const reopen = await ada.post(`/staff/tickets/${b.number}/reopening`, new URLSearchParams({ _csrf: csrf }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.match(reopen.text, `Ticket ${b.number} was merged into another ticket; work on that one instead.`, 'a reopening posted anyway is refused')
  t.equal((await findTicketByNumber(app.db, b.number))!.status, 'closed')
  await app.db('tickets').where({ id: b.id }).update({ status: 'open' })
  t.match((await mergeByHand(app, desk, b.number, c.number)).text, `Ticket ${b.number} is already merged into another ticket.`)

  for (const [number, into] of [[a.number, null], [b.number, a.id], [c.number, null]] as const) {
    t.equal((await findTicketByNumber(app.db, number))!.merged_into_id, into, `${number} points where it did`)
  }
  t.equal((await app.db('thread_entries').where({ ticket_id: a.id })).length, 2, 'A holds its own thread and B\'s, nothing else')

  // A chain stays flat: merging A (which holds B) into C points B at C directly.
  t.match((await mergeByHand(app, desk, a.number, c.number)).text, `Merged into ticket ${c.number}.`)
  t.equal((await findTicketByNumber(app.db, b.number))!.merged_into_id, c.id)
})

t.test('a merge brings the merged ticket\'s participants onto the surviving thread, once each, as events; across two requesters it brings nobody', async (t) => {
  const app = await testApp(t, mailEnv, { startWorkers: false })
  const desk = await seedDesk(app)
  const first = await openTicket(app, desk.topics.broken, 'Printer jams')
  const second = await openTicket(app, desk.topics.broken, 'Printer jams again')
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const addParticipant = async (number: string, email: string, name: string): Promise<void> => {
    const page = await bob.submit(await bob.get(`/staff/tickets/${number}`), 'form.participant-form', { email, name })
    if (!page.$('.participants').text().includes(email)) throw new Error(`${email} was not added to ${number}`)
  }
  await addParticipant(first.number, 'joan@example.com', 'Joan Clarke')
  await addParticipant(second.number, 'joan@example.com', 'Joan Clarke')
  await addParticipant(second.number, 'alan@example.com', 'Alan Turing')

  t.match((await mergeByHand(app, desk, second.number, first.number)).text, `Merged into ticket ${first.number}.`)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  let page = await ada.get(`/staff/tickets/${first.number}`)
  t.same(page.$('.participants li').map((_, li) => page.$(li).contents().first().text().trim()).get(),
    ['Joan Clarke <joan@example.com>', 'Alan Turing <alan@example.com>'], 'Alan joins; Joan, there already, is not doubled')
  t.match(page.text, `Ada Lovelace added Alan Turing <alan@example.com> as a participant, from merged ticket ${second.number}`, 'shown in the history')
  const added = await app.db('events').where({ ticket_id: first.id, type: 'participant_added' }).orderBy('id')
  t.equal(added.length, 2, 'one event for Joan (by Bob), one for Alan (by the merge)')
  t.match(added[1], { actor_kind: 'agent', agent_id: desk.agents.ada.id })
  t.same(JSON.parse(added[1].after_state as string), { email: 'alan@example.com', name: 'Alan Turing', merged_from: second.number })

  // The next reply goes in copy to Alan too.
  page = await ada.submit(page, 'form.composer', { message: 'A new drum is on its way.' })
  t.match(page.text, 'Reply sent to the requester.')
  const copies = await app.db('outbox').where({ ticket_id: first.id, template: 'participant_copy' }).orderBy('to_address').pluck('to_address')
  t.same(copies, ['alan@example.com', 'joan@example.com'])

  // Another person's ticket: its participant would read Grace's conversation, so stays behind.
  const dan = await app.lifecycle.openTicket({ name: 'Dan Brown', email: 'dan@example.org', subject: 'Printer jams here too', message: 'Same here.', helpTopicId: desk.topics.broken })
  await addParticipant(dan.ticket.number, 'erin@example.org', 'Erin Dan\'s colleague')
  t.match((await mergeByHand(app, desk, dan.ticket.number, first.number)).text, `Merged into ticket ${first.number}.`)
  t.same(await app.db('ticket_participants').where({ ticket_id: first.id }).orderBy('id').pluck('email'), ['joan@example.com', 'alan@example.com'],
    'neither Dan nor his colleague joins Grace\'s ticket')
  t.equal(await app.db('events').where({ ticket_id: first.id, type: 'participant_added' }).count({ n: '*' }).first().then((row) => Number((row as { n: number | string }).n)), 2)
})
