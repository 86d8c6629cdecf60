import t from 'tap'
import { listOutbox } from '../../../src/data/outbox.js'
import { notices } from '../../../src/domain/notices.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'

t.test('the notices page lists every notice with its recipients and a preview, and turns one off so none is queued', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  let page = await ada.get('/staff/admin/notices')
  t.equal(page.status, 200)
  t.same(page.$('tbody tr').map((_, tr) => page.$(tr).attr('id')).get(), Object.keys(notices).map((n) => `notice-${n}`), 'every notice of the table')
  const newTicket = page.$('#notice-new_ticket')
  t.match(newTicket.text(), /New ticket in my department[\s\S]*agents and managers of the ticket’s department[\s\S]*On/)
  t.match(newTicket.find('details').text(), /Subject: \[#482913\] New ticket: Printer jams on page two[\s\S]*From: Grace Hopper[\s\S]*http:\/\/help\.example\.test\/staff\/tickets\/482913/, 'a preview from the real template, with sample values')
  t.match(page.$('#notice-agent_response details').text(), /Ada Lovelace replied[\s\S]*\/tickets\/482913\/access\/SAMPLE-PRIVATE-LINK[\s\S]*— Tessera Help Desk/)
  t.match(page.$('#notice-password_reset').text(), 'Always', 'password links cannot be switched off')
  t.equal(page.$('#notice-password_reset form').length, 0)

  page = await ada.submit(page, 'form[action="/staff/admin/notices/new_ticket"]')
  t.match(page.text, 'The new_ticket notice is now off.')
  t.match(page.$('#notice-new_ticket').text(), /Off[\s\S]*Turn on/)

  const ticket = await openTicket(app, desk.topics.broken)
  const queued = (await listOutbox(app.db, { ticketId: ticket.id })).map((m) => m.template)
  t.same(queued, ['ticket_received'], 'no new_ticket notice is queued while it is off; the others still are')

  page = await ada.submit(page, 'form[action="/staff/admin/notices/new_ticket"]')
  t.match(page.text, 'The new_ticket notice is now on.')
  const second = await openTicket(app, desk.topics.broken, 'Toner low')
  t.ok((await listOutbox(app.db, { ticketId: second.id })).some((m) => m.template === 'new_ticket'), 'on again, it is queued again')

  const log = await ada.get('/staff/admin/log?subject=notice')
  t.match(log.$('tbody tr').map((_, tr) => log.$(tr).text()).get().join('|'), /turned on[\s\S]*new_ticket[\s\S]*off → on[\s\S]*\|[\s\S]*turned off[\s\S]*on → off/, 'both switches are logged')

  const csrf = page.$('form[action="/staff/admin/notices/new_ticket"] input[name="_csrf"]').attr('value')!
  const post = async (path: string, body: Record<string, string>): Promise<number> =>
    (await ada.post(path, new URLSearchParams({ _csrf: csrf, ...body }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, follow: false })).status
  t.equal(await post('/staff/admin/notices/new_ticket', { enabled: 'maybe' }), 422, 'a value other than on or off is refused')
  t.equal(await post('/staff/admin/notices/new_ticket', {}), 422)
  t.equal(await post('/staff/admin/notices/password_reset', { enabled: 'off' }), 404, 'a notice that cannot be switched off')
  t.equal(await post('/staff/admin/notices/constructor', { enabled: 'off' }), 404, 'an unknown notice')
  t.equal(await post('/staff/admin/notices/new_ticket', { enabled: 'on' }), 303, 'switching on what is on is calm')
  t.equal((await ada.get('/staff/admin/log?subject=notice')).$('tbody tr').length, 2, 'and logs nothing')
})
