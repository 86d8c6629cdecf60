import t from 'tap'
import { listOutbox } from '../../../src/data/outbox.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { tokenInSentMail } from '../../helpers/mail.js'
import { Visitor } from '../../helpers/visitor.js'

t.test('an admin writes canned responses per department; agents insert them with the placeholders filled, and the mail carries the private link', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const form = 'form[action="/staff/admin/canned"]'

  let page = await ada.get('/staff/admin/canned')
  page = await ada.submit(page, form, {
    title: 'Printer fixed',
    body: 'Hello {requester.name},\n\nTicket {ticket.number} is fixed. Follow it here: {ticket.link}\n\n{agent.name}',
    department: String(desk.departments.support)
  })
  t.equal(page.url, '/staff/admin/canned')
  t.match(page.text, 'Canned response created.')
  const row = page.$('tr:contains("Printer fixed")')
  t.match(row.text(), 'Agents of Support')
  t.match(row.find('pre').text(), /Hello Grace Hopper,\s+Ticket 482913 is fixed\. Follow it here: http:\/\/help\.example\.test\/tickets\/482913\/access\/SAMPLE-PRIVATE-LINK\s+Ada Lovelace/, 'previewed with sample values')
  page = await ada.submit(page, form, { title: 'Refund issued', body: 'Your refund is on its way.', department: String(desk.departments.billing) })
  t.match(page.text, 'Canned response created.')

  const printerJam = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  page = await bob.get(`/staff/tickets/${printerJam.number}`)
  const offered = page.$('#composer-canned option').map((_, o) => page.$(o).text()).get()
  t.ok(offered.includes('Printer fixed'), 'Bob, in Support, is offered the Support response')
  t.notOk(offered.includes('Refund issued'), 'but not Billing’s')
  t.ok(offered.includes('Need more details'), 'and the ones for everyone')

  const id = page.$('#composer-canned option:contains("Printer fixed")').attr('value')!
  page = await bob.submit(page, 'form.composer', { message: '', canned: id, intent: 'canned' })
  t.equal(page.status, 200)
  const filled = `Hello Grace Hopper,\n\nTicket ${printerJam.number} is fixed. Follow it here: {ticket.link}\n\nBob Kahn`
  t.equal(page.$('#composer-message').text(), filled, 'the placeholders are filled in the box, for Bob to read before sending')
  t.match(page.$('#composer-message-hint').text(), '{ticket.link} becomes the requester’s private link in the e-mail')

  const htmx = await bob.post(`/staff/tickets/${printerJam.number}/draft`, new URLSearchParams({ _csrf: page.$('form.composer input[name="_csrf"]').attr('value')!, message: 'Hi,', canned: id }).toString(),
    { headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true', 'hx-target': 'conversation' } })
  t.equal(htmx.$('#composer-message').text(), `Hi,\n\n${filled}`, 'with htmx, the conversation part comes back with the filled text')
  t.equal(htmx.$('html').length > 0 && htmx.$('header.site').length, 0, 'as a fragment')

  const refund = await app.db('canned_responses').where({ title: 'Refund issued' }).first('id')
  page = await bob.submit(page, 'form.composer', { message: 'Draft', canned: String(refund.id), intent: 'canned' })
  t.equal(page.$('#composer-message').text(), 'Draft', 'another department’s response cannot be inserted by its id')

  page = await bob.submit(await bob.get(`/staff/tickets/${printerJam.number}`), 'form.composer', { message: filled, intent: 'reply' })
  t.match(page.text, 'Reply sent to the requester.')
  const response = (await listOutbox(app.db, { ticketId: printerJam.id, toAddress: 'grace@example.com' })).find((m) => m.template === 'agent_response')!
  t.notMatch(response.payload, /access\//, 'the outbox row holds no link')
  const token = await tokenInSentMail(app, response.id)
  const { readFileSync } = await import('node:fs')
  const eml = readFileSync(`${app.config.dataDir}/mail/${response.id}.eml`, 'utf8').replace(/=\r?\n/g, '')
  t.match(eml, `Follow it here: http://help.example.test/tickets/${printerJam.number}/access/${token}`, 'the mail carries the link minted for it in place of the placeholder')
  t.notMatch(eml, '{ticket.link}')
  const requester = new Visitor(app)
  const portal = await requester.get(`/tickets/${printerJam.number}/access/${token}`)
  t.match(portal.text, `Follow it here: http://help.example.test/tickets/${printerJam.number} `, 'on the requester’s own page the placeholder is that page')
  t.notMatch(portal.text, '{ticket.link}')

  const log = await ada.get('/staff/admin/log?subject=canned_response')
  t.equal(log.$('tbody tr').length, 2, 'both creations are logged')
})

t.test('editing and deleting canned responses; bad input gets 422 with the text kept', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const existing = await app.db('canned_responses').where({ title: 'Need more details' }).first('id')
  const editForm = `form[action="/staff/admin/canned/${existing.id as number}"]`

  let page = await ada.get(`/staff/admin/canned/${existing.id as number}`)
  t.equal(page.status, 200)
  page = await ada.submit(page, editForm, { title: 'More details, please', department: String(desk.departments.billing) })
  t.match(page.text, 'Canned response saved.')
  t.match(page.$('tr:contains("More details, please")').text(), 'Agents of Billing')
  const log = await ada.get('/staff/admin/log?subject=canned_response')
  t.match(log.$('tbody tr').first().text(), /changed[\s\S]*Need more details → More details, please/)

  const bad: Array<[Record<string, string>, string, RegExp]> = [
    [{ title: '' }, 'title', /Give the response a title/],
    [{ title: 't'.repeat(121) }, 'title', /120 characters or fewer/],
    [{ body: '  ' }, 'body', /Write the response/],
    [{ department: '99999' }, 'department', /Choose everyone or one of the departments/],
    [{ department: 'billing' }, 'department', /Choose everyone or one of the departments/]
  ]
  for (const [fields, field, message] of bad) {
    page = await ada.submit(await ada.get('/staff/admin/canned'), 'form[action="/staff/admin/canned"]', { title: 'Kept <i>title</i>', body: 'Kept body', ...fields })
    t.equal(page.status, 422, `${JSON.stringify(fields)} is refused`)
    t.match(page.$(`#canned-${field}-error`).text(), message)
    t.equal(page.$('#canned-body').text(), fields.body ?? 'Kept body', 'the text is kept')
  }
  page = await ada.submit(await ada.get(`/staff/admin/canned/${existing.id as number}`), editForm, { title: '' })
  t.equal(page.status, 422, 'the edit form too')
  t.equal(page.$('#canned-edit-body').text(), 'Could you tell us a little more: what exactly happened, when it started, and what you expected to happen instead?')

  t.equal((await ada.get('/staff/admin/canned/99999')).status, 404, 'an unknown response is not found')
  t.equal((await ada.get('/staff/admin/canned/constructor')).status, 404)

  page = await ada.get(`/staff/admin/canned/${existing.id as number}`)
  page = await ada.submit(page, `form[action="/staff/admin/canned/${existing.id as number}/deletion"]`)
  t.match(page.text, 'Canned response deleted.')
  t.notOk(await app.db('canned_responses').where({ id: existing.id }).first(), 'gone')
  const again = await ada.post(`/staff/admin/canned/${existing.id as number}/deletion`, new URLSearchParams({ _csrf: page.$('form[action="/staff/admin/canned"] input[name="_csrf"]').attr('value')! }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(again.status, 404, 'deleting it again finds nothing')
  t.match((await ada.get('/staff/admin/log?subject=canned_response')).$('tbody tr').first().text(), /deleted/)
})
