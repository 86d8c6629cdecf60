import t from 'tap'
import { testApp, testClock } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { smtpServer } from '../../helpers/smtp.js'

const preferencesForm = 'form[action="/staff/preferences"]'

t.test('a reply carries the signature chosen, in the stored reply and in the mail the requester receives', async (t) => {
  const smtp = await smtpServer(t)
  const clock = testClock(Date.UTC(2026, 10, 26, 9, 0))
  const app = await testApp(t, { SMTP_URL: smtp.url }, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)

  // The desk's zone is Berlin; the mail says so.
  const settings = await ada.submit(await ada.get('/staff/admin/settings'), 'form[action="/staff/admin/settings"]', { timeZone: 'Europe/Berlin' })
  t.match(settings.text, 'Settings saved.')

  const departmentPage = `/staff/admin/departments/${desk.departments.support}`
  let page = await ada.submit(await ada.get(departmentPage), `form[action="${departmentPage}/signature"]`, { signature: 'Support team\r\nAcme Ltd' })
  t.match(page.text, 'Signature saved.')
  t.equal(page.$('#department-signature-signature').text(), 'Support team\nAcme Ltd', 'the department page shows it')
  const log = await ada.get('/staff/admin/log?subject=department')
  t.match(log.$('tbody tr').first().text(), /signature changed[\s\S]*Support team/, 'the admin log records it')

  await bob.submit(await bob.get('/staff/preferences'), preferencesForm, { signature: 'Bob Kahn\r\nPrinters', defaultSignature: 'department' })

  const ticket = await openTicket(app, desk.topics.broken)
  const ticketPage = await bob.get(`/staff/tickets/${ticket.number}`)
  t.equal(ticketPage.$('#composer-signature').val(), 'department', 'the reply form starts on his default')

  // Without htmx: a plain POST, then the 303.
  clock.advance(60_000)
  page = await bob.submit(ticketPage, 'form.composer', { message: 'Please try the other tray.', signature: 'mine', intent: 'reply' })
  t.equal(page.url, `/staff/tickets/${ticket.number}`)
  t.match(page.text, 'Reply sent to the requester.')
  t.match(page.$('.thread').text(), /Please try the other tray\.\s+Bob Kahn\s+Printers/, 'the stored reply ends with his own signature')

  // With htmx: the same route answers with the conversation fragment.
  clock.advance(60_000)
  const fragment = await bob.submit(await bob.get(`/staff/tickets/${ticket.number}`), 'form.composer', { message: 'Or this one.', intent: 'reply' },
    { headers: { 'hx-request': 'true', 'hx-target': 'conversation' } })
  const replies = await app.db('thread_entries').where({ ticket_id: ticket.id, kind: 'response' }).orderBy('id').select('body')
  t.same(replies.map((r: { body: string }) => r.body), ['Please try the other tray.\n\nBob Kahn\nPrinters', 'Or this one.\n\nSupport team\nAcme Ltd'], 'the default (the department’s) when he does not choose')
  t.equal(fragment.$('section#conversation').length, 1, 'htmx gets the conversation')
  t.notOk(fragment.text.includes('<html'), 'as a fragment, without the layout')

  clock.advance(60_000)
  await bob.submit(await bob.get(`/staff/tickets/${ticket.number}`), 'form.composer', { message: 'Nothing more.', signature: 'none', intent: 'reply' })
  t.equal((await app.db('thread_entries').where({ ticket_id: ticket.id, kind: 'response' }).orderBy('id', 'desc').first('body')).body, 'Nothing more.', 'none: no signature')

  await app.outbox.runOnce()
  const toGrace = smtp.messages.filter((m) => m.envelopeTo.includes('grace@example.com') && m.parsed.text?.includes('replied to your request'))
  t.equal(toGrace.length, 3, 'the requester received the three replies')
  const first = toGrace.find((m) => m.parsed.text?.includes('the other tray'))!
  t.match(first.parsed.text, /Please try the other tray\.\n\nBob Kahn\nPrinters/, 'the signature is in the mail')
  t.match(first.parsed.text, /on 26 Nov 2026, 10:01 CET \(Europe\/Berlin\)/, 'the mail states the time in the desk’s zone, and names it')
  t.match(String(first.parsed.html), /Bob Kahn<br>\s*Printers/, 'and in its HTML part')
})

t.test('bad signature input: 422 with the text kept, never a 500', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const departmentPage = `/staff/admin/departments/${desk.departments.support}`
  const form = `form[action="${departmentPage}/signature"]`
  for (const [signature, message] of [['s'.repeat(4001), /4000 characters or fewer/], ['s'.repeat(2001), /2000 characters or fewer/], ['Acme\u0000Ltd', /control characters/]] as const) {
    const page = await ada.submit(await ada.get(departmentPage), form, { signature })
    t.equal(page.status, 422)
    t.match(page.$('#department-signature-signature-error').text(), message)
    // HTML turns a NUL into U+FFFD on the way back; every other character comes back as typed.
    t.equal(page.$('#department-signature-signature').text().replace(/\n$/, ''), signature.replace('\u0000', '\uFFFD'), 'the text is kept')
  }
  const ticket = await openTicket(app, desk.topics.broken)
  const page = await ada.submit(await ada.get(`/staff/tickets/${ticket.number}`), 'form.composer', { message: 'Kept reply', signature: 'somebody’s', intent: 'reply' })
  t.equal(page.status, 422, 'a signature choice not offered is refused')
  t.match(page.$('#composer-signature-error').text(), /Choose my signature/)
  t.equal(page.$('#composer-message').text(), 'Kept reply', 'with the reply kept')
  t.equal(await app.db('thread_entries').where({ ticket_id: ticket.id, kind: 'response' }).count({ n: '*' }).first().then((r) => Number(r?.n)), 0, 'and nothing sent')
})
