import t from 'tap'
import { findTicketByNumber, listEntries } from '../../src/data/tickets.js'
import { testApp } from '../helpers/app.js'
import { seedDesk } from '../helpers/fixtures.js'
import { apiKey, mailEnv, plainMessage, postMail } from '../helpers/mail.js'

// An HTML-only reply loses the quoted history by its webmail's markers before it becomes text.
t.test('an HTML-only Gmail reply to a ticket keeps the answer and drops the quote; a forward keeps its content', async (t) => {
  const app = await testApp(t, mailEnv, { startWorkers: false })
  const desk = await seedDesk(app)
  const key = await apiKey(app)
  const opened = await app.lifecycle.openTicket({ name: 'Grace Hopper', email: 'grace@example.com', subject: 'Printer jams', message: 'It jams.', helpTopicId: desk.topics.broken })
  const html = '<div dir="ltr">Sadly it jams again after the new toner.</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Thu, 26 Nov 2026 at 10:00, Help Desk &lt;help@example.com&gt; wrote:<br></div><blockquote class="gmail_quote">Please try a new toner cartridge.<br>Ticket secret words: quokka wombat</blockquote></div>'
  // The received notice, as the requester's client quotes it.
  for (let pass = 0; pass < 5; pass++) await app.outbox.runOnce()
  const notice = await app.db('outbox').where({ ticket_id: opened.ticket.id }).whereNotNull('message_id').first('message_id') as { message_id: string }
  const reply = plainMessage({ Subject: `Re: [#${opened.ticket.number}] Printer jams`, 'In-Reply-To': notice.message_id, 'Content-Type': 'text/html; charset=utf-8' }, html)
  const answer = await postMail(app, reply, key)
  t.equal(answer.body.outcome, 'reply', JSON.stringify(answer.body))
  const ticket = (await findTicketByNumber(app.db, opened.ticket.number))!
  const last = (await listEntries(app.db, ticket.id, { includeNotes: false })).at(-1)!
  t.match(last.body, 'Sadly it jams again after the new toner.', 'the answer is kept')
  t.notMatch(last.body, 'quokka', 'the quoted history is gone')
  t.notMatch(last.body, 'wrote:', 'and its attribution line')

  const forward = plainMessage({ Subject: 'Fwd: Invoice 4471', 'Content-Type': 'text/html; charset=utf-8' },
    '<div>See below.</div><div class="gmail_quote"><div class="gmail_attr">---------- Forwarded message ---------<br>From: Supplier &lt;billing@supplier.example&gt;<br>Subject: Invoice 4471<br></div><div>Invoice 4471 is overdue by 30 days.</div></div>')
  const forwarded = await postMail(app, forward, key)
  t.equal(forwarded.status, 201)
  const created = (await findTicketByNumber(app.db, String(forwarded.body.ticketNumber)))!
  const first = (await listEntries(app.db, created.id, { includeNotes: false }))[0]!
  t.match(first.body, 'Invoice 4471 is overdue by 30 days.', 'a forwarded message is content, not a quote')
})
