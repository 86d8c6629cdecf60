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

/** The ticket numbers a queue page lists. */
const ticketsListed = (page: Page): string[] =>
  [...new Set(page.$('tbody a[href^="/staff/tickets/"]').map((_, a) => page.$(a).attr('href')!.split('/').at(-1)).get())].sort()

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

t.test('help topics: public or internal, ordered, routed to a department with defaults, retired without losing old tickets', async (t) => {
  const { app, desk, ada } = await adminDesk(t)
  let page = await ada.get('/staff/admin/topics')
  t.equal(page.status, 200)
  t.match(page.text, /Something is broken[\s\S]*Portal[\s\S]*Support/)
  page = await ada.submit(page, 'form[action="/staff/admin/topics"]', {
    name: 'Printer trouble', visibility: 'public', sortOrder: '-1', department: String(desk.departments.billing), priority: '3', team: String(desk.teams.printers), agent: String(desk.agents.ned.id)
  })
  const printer = (await app.db('help_topics').where({ name: 'Printer trouble' }).first('id')).id as number
  t.equal(page.url, `/staff/admin/topics/${printer}`)
  t.match(page.text, 'Help topic Printer trouble created.')
  page = await ada.submit(await ada.get('/staff/admin/topics'), 'form[action="/staff/admin/topics"]', {
    name: 'Chargeback', visibility: 'internal', sortOrder: '5', department: String(desk.departments.billing)
  })
  t.equal(page.status, 200)

  const portal = new Visitor(app)
  const form = await portal.get('/tickets/new')
  const offered = form.$('#ticket-topic option').map((_, o) => form.$(o).text()).get()
  t.equal(offered[1], 'Printer trouble', 'first by its order')
  t.notOk(offered.includes('Chargeback'), 'internal topics are not on the portal')
  const chargeback = (await app.db('help_topics').where({ name: 'Chargeback' }).first('id')).id as number
  const forged = await portal.submit(form, 'form[action="/tickets"]', { topic: String(chargeback), name: 'Grace', email: 'grace@example.com', subject: 'S', message: 'M' })
  t.equal(forged.status, 422, 'nor can the portal form be sent with one')

  const created = await portal.submit(form, 'form[action="/tickets"]', { topic: String(printer), name: 'Grace', email: 'grace@example.com', subject: 'Printer jams', message: 'It jams.' })
  t.equal(created.status, 200)
  const ticket = await app.db('tickets').where({ subject: 'Printer jams' }).first('id', 'department_id', 'priority', 'team_id', 'assignee_id', 'help_topic_id')
  t.match(ticket, { department_id: desk.departments.billing, priority: 3, team_id: desk.teams.printers, assignee_id: desk.agents.ned.id }, 'the topic’s department, priority, team and agent')
  const assigned = await app.db('events').where({ ticket_id: ticket.id, type: 'assigned' }).first('actor_kind', 'after_state')
  t.same(assigned, { actor_kind: 'system', after_state: JSON.stringify({ assignee_id: desk.agents.ned.id, team_id: desk.teams.printers, rule: 'Printer trouble', strategy: 'topic' }) }, 'recorded as an assignment by Tessera')
  t.ok(await app.db('outbox').where({ template: 'ticket_assigned', to_address: desk.agents.ned.email }).first(), 'the agent is told')

  page = await ada.get(`/staff/admin/topics/${printer}`)
  page = await ada.submit(page, `form[action="/staff/admin/topics/${printer}"]`, { priority: '', agent: '', team: '' })
  t.match(page.text, 'Help topic saved.')
  t.match(await app.db('help_topics').where({ id: printer }).first('default_priority', 'default_team_id', 'default_agent_id'), { default_priority: null, default_team_id: null, default_agent_id: null })
  page = await ada.submit(page, 'form[action$="/retirement"]')
  t.match(page.text, 'Help topic retired')
  t.notOk((await portal.get('/tickets/new')).text.includes('Printer trouble'), 'a retired topic is not offered')
  const staffPage = await ada.get(`/staff/tickets/${(await app.db('tickets').where({ id: ticket.id }).first('number')).number}`)
  t.match(staffPage.text, 'Printer trouble', 'its old ticket still shows its topic')
  page = await ada.submit(page, 'form[action$="/reinstatement"]')
  t.match(page.text, 'Help topic offered again.')

  t.same((await adminLog(app, 'help_topic')).map((e) => e.action), ['created', 'created', 'changed', 'retired', 'reinstated'])
})

t.test('bad input on the help topic forms is refused with 422 and the text kept', async (t) => {
  const { app, desk, ada } = await adminDesk(t)
  const list = await ada.get('/staff/admin/topics')
  const good = { name: 'Returns', visibility: 'public', sortOrder: '1', department: String(desk.departments.support), priority: '', team: '', agent: '' }
  const cases: Array<[Record<string, string>, string, string]> = [
    [{ name: 'y'.repeat(121) }, 'name', 'Name must be 120 characters or fewer.'],
    [{ name: 'feedback' }, 'name', 'There is already a help topic with that name.'],
    [{ visibility: 'secret' }, 'visibility', 'Choose where the topic is shown.'],
    [{ sortOrder: 'first' }, 'sortOrder', 'The order is a whole number, like 10.'],
    [{ department: '' }, 'department', 'Choose the department its tickets go to.'],
    [{ department: '999999' }, 'department', 'Choose one of the active departments listed.'],
    [{ department: '1 or 1=1' }, 'department', 'Choose one of the active departments listed.'],
    [{ priority: '7' }, 'priority', 'Choose one of the priorities listed.'],
    [{ team: '999999' }, 'team', 'Choose one of the teams listed.'],
    [{ agent: '999999' }, 'agent', 'Choose one of the active agents listed.']
  ]
  for (const [fields, field, message] of cases) {
    const page = await ada.submit(list, 'form[action="/staff/admin/topics"]', { ...good, ...fields })
    t.equal(page.status, 422, `${JSON.stringify(fields).slice(0, 40)} is refused`)
    t.equal(errorOf(page, `topic-${field}`), message)
    t.equal(page.$('#topic-name').val(), good.name === fields.name || fields.name === undefined ? good.name : fields.name, 'the name is kept')
  }
  await app.db('departments').where({ id: desk.departments.billing }).update({ archived_at: 1 })
  const archived = await ada.submit(list, 'form[action="/staff/admin/topics"]', { ...good, department: String(desk.departments.billing) })
  t.equal(errorOf(archived, 'topic-department'), 'Choose one of the active departments listed.', 'an archived department')
  t.equal((await app.db('help_topics').where({ name: 'Returns' })).length, 0)
  t.equal((await ada.get('/staff/admin/topics/999999')).status, 404)
  // Its own archived department stays choosable on a topic already in it.
  const invoices = await ada.get(`/staff/admin/topics/${desk.topics.billing}`)
  const saved = await ada.submit(invoices, `form[action="/staff/admin/topics/${desk.topics.billing}"]`, { sortOrder: '3' })
  t.match(saved.text, 'Help topic saved.')
  const retired = await ada.submit(saved, 'form[action$="/retirement"]')
  const refused = await ada.submit(retired, 'form[action$="/reinstatement"]')
  t.equal(refused.status, 422, 'a topic in an archived department is not offered again')
})

t.test('teams: create, rename, members and lead, a queue of their own, deleted once nothing open is on them', async (t) => {
  const { app, desk, ada } = await adminDesk(t)
  let page = await ada.get('/staff/admin/teams')
  t.match(page.text, /Printers — 1 0/, 'with its lead, members and open tickets')
  page = await ada.submit(page, 'form[action="/staff/admin/teams"]', { name: 'Network' })
  const network = (await app.db('teams').where({ name: 'Network' }).first('id')).id as number
  t.equal(page.url, `/staff/admin/teams/${network}`)
  page = await ada.submit(page, 'form[action$="/members"]', { agent: String(desk.agents.bob.id) })
  t.match(page.text, 'Member added.')
  page = await ada.submit(page, 'form[action$="/members"]', { agent: String(desk.agents.ned.id) })
  page = await ada.submit(page, `form[action="/staff/admin/teams/${network}"]`, { name: 'Networks', lead: String(desk.agents.ned.id) })
  t.match(page.text, 'Team saved.')
  t.match(await app.db('teams').where({ id: network }).first('name', 'lead_id'), { name: 'Networks', lead_id: desk.agents.ned.id })
  t.match(page.text, /Ned Nobody \(ned@desk\.test\), lead/)

  const support = await openTicket(app, desk.topics.broken, 'Switch is down')
  const billing = await openTicket(app, desk.topics.billing, 'Invoice for the switch')
  await app.lifecycle.assignTicket(await app.db('tickets').where({ id: support.id }).first(), { kind: 'system' }, { agentId: null, teamId: network })
  await app.lifecycle.assignTicket(await app.db('tickets').where({ id: billing.id }).first(), { kind: 'system' }, { agentId: null, teamId: network })
  await openTicket(app, desk.topics.broken, 'Not the team’s')
  page = await ada.get(`/staff/admin/teams/${network}`)
  const queue = await ada.get(page.$('a:contains("The team’s queue")').attr('href')!)
  t.equal(queue.url, `/staff/queues/open?team=${network}`)
  t.same(ticketsListed(queue), [billing.number, support.number].sort(), 'the team’s tickets only')
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const bobs = await bob.get(`/staff/queues/open?team=${network}`)
  t.same(ticketsListed(bobs), [support.number], 'within what the agent may see')

  page = await ada.get(`/staff/admin/teams/${network}`)
  t.match(page.text, 'has 2 open or pending tickets')
  const csrf = page.$('input[name=_csrf]').first().val() as string
  const refused = await ada.post(`/staff/admin/teams/${network}/deletion`, `_csrf=${encodeURIComponent(csrf)}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(refused.status, 409)
  t.match(refused.text, 'still has 2 open tickets')
  for (const id of [support.id, billing.id]) await app.lifecycle.closeTicket(await app.db('tickets').where({ id }).first(), { kind: 'system' })

  page = await ada.submit(page, `form[action="/staff/admin/teams/${network}/members/${desk.agents.ned.id}/removal"]`)
  t.match(page.text, 'Member removed.')
  t.equal((await app.db('teams').where({ id: network }).first('lead_id')).lead_id, null, 'a lead who leaves stops leading')
  page = await ada.submit(page, 'form[action$="/deletion"]')
  t.match(page.text, 'Team Networks deleted.')
  t.equal((await app.db('tickets').where({ id: support.id }).first('team_id')).team_id, null, 'its finished tickets keep no team')
  t.same((await adminLog(app, 'team')).map((e) => e.action), ['created', 'member_added', 'member_added', 'changed', 'member_removed', 'deleted'])
})

t.test('bad input on the team forms is refused with 422 and the text kept', async (t) => {
  const { app, desk, ada } = await adminDesk(t)
  const list = await ada.get('/staff/admin/teams')
  let page = await ada.submit(list, 'form[action="/staff/admin/teams"]', { name: 'PRINTERS' })
  t.equal(page.status, 422)
  t.equal(errorOf(page, 'team-name'), 'There is already a team with that name.')
  t.equal(page.$('#team-name').val(), 'PRINTERS')
  page = await ada.submit(list, 'form[action="/staff/admin/teams"]', { name: ' ' })
  t.equal(errorOf(page, 'team-name'), 'Enter a name for the team.')
  page = await ada.submit(list, 'form[action="/staff/admin/teams"]', { name: 'z'.repeat(200) })
  t.equal(errorOf(page, 'team-name'), 'Name must be 120 characters or fewer.')

  const team = await ada.get(`/staff/admin/teams/${desk.teams.printers}`)
  page = await ada.submit(team, `form[action="/staff/admin/teams/${desk.teams.printers}"]`, { name: 'Printers and scanners', lead: String(desk.agents.ned.id) })
  t.equal(page.status, 422)
  t.equal(errorOf(page, 'team-lead'), 'Choose the lead among the team’s members.')
  t.equal(page.$('#team-name').val(), 'Printers and scanners')
  for (const agent of ['999999', '', 'bob']) {
    page = await ada.submit(team, 'form[action$="/members"]', { agent })
    t.equal(page.status, 422, `agent “${agent}” is refused`)
  }
  await app.db('agents').where({ id: desk.agents.vic.id }).update({ active: false })
  page = await ada.submit(team, 'form[action$="/members"]', { agent: String(desk.agents.vic.id) })
  t.equal(errorOf(page, 'member-agent'), 'Choose one of the active agents listed.', 'a disabled agent')
  t.equal((await ada.get('/staff/admin/teams/0')).status, 404)
  t.equal((await ada.get('/staff/queues/open?team=abc')).status, 200, 'a malformed team filter is ignored')
  t.same((await adminLog(app, 'team')), [], 'nothing refused was recorded')
})

t.test('managers and plain agents get 404 on every catalog page and form', async (t) => {
  const { app, desk, ada } = await adminDesk(t)
  const csrfPage = await ada.get('/staff/admin/departments')
  t.ok(csrfPage.$('input[name=_csrf]').length > 0)
  const d = desk.departments.support
  const gets = ['/staff/admin/departments', `/staff/admin/departments/${d}`, '/staff/admin/topics', `/staff/admin/topics/${desk.topics.broken}`, '/staff/admin/teams', `/staff/admin/teams/${desk.teams.printers}`]
  const posts = [
    '/staff/admin/departments', `/staff/admin/departments/${d}`, `/staff/admin/departments/${d}/addresses`, `/staff/admin/departments/${d}/addresses/1/deletion`,
    `/staff/admin/departments/${d}/archival`, `/staff/admin/departments/${d}/reactivation`, `/staff/admin/departments/${d}/transfer`, `/staff/admin/departments/${d}/deletion`,
    '/staff/admin/topics', `/staff/admin/topics/${desk.topics.broken}`, `/staff/admin/topics/${desk.topics.broken}/retirement`, `/staff/admin/topics/${desk.topics.broken}/reinstatement`,
    '/staff/admin/teams', `/staff/admin/teams/${desk.teams.printers}`, `/staff/admin/teams/${desk.teams.printers}/members`,
    `/staff/admin/teams/${desk.teams.printers}/members/${desk.agents.bob.id}/removal`, `/staff/admin/teams/${desk.teams.printers}/deletion`
  ]
  for (const who of [desk.agents.mel, desk.agents.bob]) {
    const { visitor, page } = await signIn(app, who.email)
    const csrf = page.$('input[name=_csrf]').first().val() as string
    t.ok(csrf, 'a CSRF token of their own')
    for (const url of gets) t.equal((await visitor.get(url)).status, 404, `${who.name}: GET ${url}`)
    for (const url of posts) {
      const answer = await visitor.post(url, new URLSearchParams({ _csrf: csrf, name: 'Taken over', address: 'x@y.test', agent: String(who.id), department: String(d) }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      t.equal(answer.status, 404, `${who.name}: POST ${url}`)
    }
  }
  t.equal((await app.db('admin_events')).length, 0, 'nothing changed')
  t.equal((await app.db('departments').where({ name: 'Taken over' })).length, 0)
})
