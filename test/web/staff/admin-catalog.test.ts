import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn, type Desk } from '../../helpers/fixtures.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

async function adminDesk (t: Test): Promise<{ app: FastifyInstance, desk: Desk, ada: Visitor }> {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  return { app, desk, ada }
}

async function adminLog (app: FastifyInstance, subject: string): Promise<Array<{ action: string, subject_id: number | null, before_state: string | null, after_state: string | null }>> {
  return await app.db('admin_events').where({ subject_type: subject }).orderBy('id').select('action', 'subject_id', 'before_state', 'after_state')
}

async function departmentId (app: FastifyInstance, name: string): Promise<number> {
  return (await app.db('departments').where({ name }).first('id')).id as number
}

async function newTicketMail (app: FastifyInstance): Promise<string[]> {
  return await app.db('outbox').where({ template: 'new_ticket' }).orderBy('id').pluck('to_address')
}

/** The message beside a field of a page's form. */
const errorOf = (page: Page, id: string): string => page.$(`#${id}-error`).text()

t.test('an admin creates a department, edits its settings and addresses, and every change is logged', async (t) => {
  const { app, ada } = await adminDesk(t)
  let page = await ada.get('/staff/admin/departments')
  t.equal(page.status, 200)
  t.match(page.text, /Support[\s\S]*Active/, 'existing departments are listed')
  page = await ada.submit(page, 'form[action="/staff/admin/departments"]', { name: 'Hardware', defaultPriority: '3', newTicketNotice: 'managers', senderName: 'Hardware Desk', senderAddress: 'Hardware@Example.com' })
  t.equal(page.status, 200)
  const id = await departmentId(app, 'Hardware')
  t.equal(page.url, `/staff/admin/departments/${id}`, 'lands on the new department')
  t.match(page.text, 'Department Hardware created.')
  t.match(await app.db('departments').where({ id }).first('default_priority', 'new_ticket_notice', 'sender_name', 'sender_address'),
    { default_priority: 3, new_ticket_notice: 'managers', sender_name: 'Hardware Desk', sender_address: 'hardware@example.com' })

  page = await ada.submit(page, 'form[action$="/addresses"]', { address: ' Hardware-In@Example.com ' })
  t.match(page.text, 'Mail to hardware-in@example.com now opens tickets here.')
  t.match(page.$('#addresses').nextAll('ul').first().text(), 'hardware-in@example.com')
  t.same(await app.db('department_addresses').where({ department_id: id }).pluck('address'), ['hardware-in@example.com'])

  page = await ada.submit(page, `form[action="/staff/admin/departments/${id}"]`, { name: 'Hardware and devices', senderName: '', senderAddress: '' })
  t.match(page.text, 'Department saved.')
  t.match(page.$('h1').text(), 'Hardware and devices')
  const again = await ada.submit(page, `form[action="/staff/admin/departments/${id}"]`)
  t.equal(again.status, 200, 'saving without changes is calm')

  page = await ada.submit(page, 'form[action$="/deletion"][action*="/addresses/"]')
  t.match(page.text, 'Address removed.')
  t.equal((await app.db('department_addresses').where({ department_id: id })).length, 0)

  const log = await adminLog(app, 'department')
  t.same(log.map((e) => e.action), ['created', 'address_added', 'changed', 'address_removed'], 'each change once, a no-op not at all')
  t.same(JSON.parse(log[2]!.before_state!), { name: 'Hardware', sender_name: 'Hardware Desk', sender_address: 'hardware@example.com' })
  t.same(JSON.parse(log[2]!.after_state!), { name: 'Hardware and devices', sender_name: null, sender_address: null })
  const logPage = await ada.get('/staff/admin/log?subject=department')
  t.match(logPage.text, /address added[\s\S]*hardware-in@example\.com/, 'the log page shows it')
})

t.test('bad input on the department forms is refused with 422, the text kept and the problem named', async (t) => {
  const { app, desk, ada } = await adminDesk(t)
  const list = await ada.get('/staff/admin/departments')
  const long = 'x'.repeat(121)
  let page = await ada.submit(list, 'form[action="/staff/admin/departments"]', { name: long })
  t.equal(page.status, 422)
  t.equal(errorOf(page, 'department-name'), 'Name must be 120 characters or fewer.')
  t.equal(page.$('#department-name').val(), long, 'the text is kept')
  page = await ada.submit(list, 'form[action="/staff/admin/departments"]', { name: 'billing' })
  t.equal(page.status, 422)
  t.equal(errorOf(page, 'department-name'), 'There is already a department with that name.')
  page = await ada.submit(list, 'form[action="/staff/admin/departments"]', { name: 'Returns', senderAddress: 'not an address' })
  t.equal(page.status, 422)
  t.match(errorOf(page, 'department-senderAddress'), '“not an address” is not an e-mail address')
  t.equal(page.$('#department-name').val(), 'Returns')
  page = await ada.submit(list, 'form[action="/staff/admin/departments"]', { name: 'Returns', defaultPriority: '9' })
  t.equal(page.status, 422)
  t.equal(errorOf(page, 'department-defaultPriority'), 'Choose one of the priorities listed.')
  page = await ada.submit(list, 'form[action="/staff/admin/departments"]', { name: 'Returns', newTicketNotice: 'everyone' })
  t.equal(errorOf(page, 'department-newTicketNotice'), 'Choose who is told about new tickets.')
  t.equal(await app.db('departments').where({ name: 'Returns' }).first(), undefined, 'nothing was created')

  const support = await ada.get(`/staff/admin/departments/${desk.departments.support}`)
  page = await ada.submit(support, 'form[action$="/addresses"]', { address: 'help@support.test' })
  t.equal(page.status, 200)
  const billing = await ada.get(`/staff/admin/departments/${desk.departments.billing}`)
  page = await ada.submit(billing, 'form[action$="/addresses"]', { address: 'HELP@support.test' })
  t.equal(page.status, 422)
  t.equal(errorOf(page, 'address-address'), 'help@support.test already belongs to the department Support.')
  t.equal(page.$('#address-address').val(), 'HELP@support.test')
  for (const address of ['nope', 'a@b', 'two@x.test three@y.test', '<a@b.test>', 'x'.repeat(250) + '@a.test']) {
    page = await ada.submit(billing, 'form[action$="/addresses"]', { address })
    t.equal(page.status, 422, `${address.slice(0, 30)} is refused`)
    t.ok(errorOf(page, 'address-address').length > 0, 'with a message beside the field')
  }
  page = await ada.submit(billing, 'form[action$="/addresses"]', { address: 'bad\u0000@x.test' })
  t.equal(page.status, 422, 'control characters too')

  page = await ada.submit(billing, `form[action="/staff/admin/departments/${desk.departments.billing}"]`, { name: 'Support' })
  t.equal(page.status, 422, 'renaming onto another department’s name')
  t.equal(page.$('#department-name').val(), 'Support')

  for (const url of ['/staff/admin/departments/999999', '/staff/admin/departments/abc', '/staff/admin/departments/99999999999999']) {
    t.equal((await ada.get(url)).status, 404, `${url} is not found`)
  }
  const csrf = billing.$('input[name=_csrf]').first().val() as string
  const post = async (url: string, body: Record<string, string>): Promise<Page> =>
    await ada.post(url, new URLSearchParams({ _csrf: csrf, ...body }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal((await post('/staff/admin/departments/999999', { name: 'X', defaultPriority: '2', newTicketNotice: 'agents' })).status, 404)
  t.equal((await post('/staff/admin/departments/999999/archival', {})).status, 404)
  t.equal((await post(`/staff/admin/departments/${desk.departments.billing}/transfer`, { department: '999999' })).status, 422, 'an unknown target department')
  t.equal((await post(`/staff/admin/departments/${desk.departments.billing}/transfer`, { department: 'x\'; drop table tickets; --' })).status, 422)
  t.equal((await post('/staff/admin/departments', { name: ['a', 'b'] as unknown as string })).status, 422)
  t.equal((await app.inject({ method: 'POST', url: '/staff/admin/departments', payload: '{"name":1}', headers: { 'content-type': 'application/json', cookie: '' } })).statusCode < 500, true)
})

t.test('an archived department is offered for nothing new; its tickets move out in one go and then it can be deleted', async (t) => {
  const { app, desk, ada } = await adminDesk(t)
  const first = await openTicket(app, desk.topics.billing, 'Invoice is wrong')
  const second = await openTicket(app, desk.topics.billing, 'Invoice is late')
  await app.lifecycle.deleteTicket(await app.db('tickets').where({ id: second.id }).first(), { kind: 'system' })

  let page = await ada.get(`/staff/admin/departments/${desk.departments.billing}`)
  t.match(page.text, 'holds 2 tickets')
  t.equal(page.$('form[action$="/deletion"]:not([action*="addresses"])').length, 0, 'no delete button while it holds tickets')
  page = await ada.submit(page, 'form[action$="/archival"]')
  t.match(page.text, 'Department archived')
  t.match(page.$('h1').text(), '(archived)')

  const portal = await new Visitor(app).get('/tickets/new')
  t.equal(portal.$('option:contains("Invoices")').length, 0, 'its topics are not offered on the portal')
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const supportTicket = await openTicket(app, desk.topics.broken, 'Printer jams')
  const ticketPage = await bob.get(`/staff/tickets/${supportTicket.number}`)
  t.equal(ticketPage.$('#transfer-department option:contains("Billing")').length, 0, 'nor for transfers')
  const transfer = await bob.submit(ticketPage, 'form[action$="/department"]', { department: String(desk.departments.billing) })
  t.match(transfer.text, 'Choose one of the active departments listed.', 'a forged transfer into it is refused')
  t.equal((await app.db('tickets').where({ id: supportTicket.id }).first('department_id')).department_id, desk.departments.support)
  const topics = await ada.get('/staff/admin/topics')
  t.equal(topics.$('#topic-department option:contains("Billing")').length, 0, 'nor for topics')

  page = await ada.get(`/staff/admin/departments/${desk.departments.billing}`)
  t.equal(page.$('#move-department option:contains("Billing")').length, 0)
  page = await ada.submit(page, 'form[action$="/transfer"]', { department: String(desk.departments.support) })
  t.match(page.text, '2 tickets moved.')
  t.same((await app.db('tickets').whereIn('id', [first.id, second.id]).pluck('department_id')).map(Number), [desk.departments.support, desk.departments.support])
  const events = await app.db('events').where({ ticket_id: first.id, type: 'transferred' }).select('agent_id', 'before_state', 'after_state')
  t.same(events, [{ agent_id: desk.agents.ada.id, before_state: JSON.stringify({ department_id: desk.departments.billing }), after_state: JSON.stringify({ department_id: desk.departments.support }) }], 'each move is an event by the admin')

  page = await ada.get(`/staff/admin/departments/${desk.departments.billing}`)
  t.match(page.text, 'help topics still file tickets here (Invoices)')
  const csrf = page.$('input[name=_csrf]').first().val() as string
  const refused = await ada.post(`/staff/admin/departments/${desk.departments.billing}/deletion`, `_csrf=${encodeURIComponent(csrf)}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(refused.status, 409)
  t.match(refused.text, 'give them another department first')
  await app.db('help_topics').where({ department_id: desk.departments.billing }).update({ department_id: desk.departments.support })
  page = await ada.get(`/staff/admin/departments/${desk.departments.billing}`)
  page = await ada.submit(page, 'form[action$="/deletion"]')
  t.equal(page.url, '/staff/admin/departments')
  t.match(page.text, 'Department Billing deleted.')
  t.equal(await app.db('departments').where({ id: desk.departments.billing }).first(), undefined)
  t.same((await adminLog(app, 'department')).map((e) => e.action), ['archived', 'tickets_moved', 'deleted'])

  page = await ada.get(`/staff/admin/departments/${desk.departments.support}`)
  const reactivated = await ada.submit(await ada.submit(page, 'form[action$="/archival"]'), 'form[action$="/reactivation"]')
  t.match(reactivated.text, 'Department active again.')
})

t.test('a department’s default priority and its new-ticket audience apply to new tickets', async (t) => {
  const { app, desk, ada } = await adminDesk(t)
  let page = await ada.get(`/staff/admin/departments/${desk.departments.billing}`)
  page = await ada.submit(page, `form[action="/staff/admin/departments/${desk.departments.billing}"]`, { defaultPriority: '4', newTicketNotice: 'managers' })
  t.equal(page.status, 200)
  const ticket = await openTicket(app, desk.topics.billing, 'Invoice is wrong')
  t.equal((await app.db('tickets').where({ id: ticket.id }).first('priority')).priority, 4, 'the topic sets none, so the department’s applies')
  t.same((await newTicketMail(app)).sort(), [desk.agents.ada.email, desk.agents.mel.email], 'only its managers hear of it (administrators manage every department)')

  page = await ada.submit(page, `form[action="/staff/admin/departments/${desk.departments.billing}"]`, { newTicketNotice: 'nobody' })
  await openTicket(app, desk.topics.billing, 'Invoice is late')
  t.equal((await newTicketMail(app)).length, 2, 'nobody is told')
  page = await ada.submit(page, `form[action="/staff/admin/departments/${desk.departments.billing}"]`, { newTicketNotice: 'agents' })
  await openTicket(app, desk.topics.billing, 'Invoice is lost')
  t.same((await newTicketMail(app)).slice(2).sort(), [desk.agents.ada.email, desk.agents.mel.email, desk.agents.ned.email], 'all its agents and managers')
})
