import t from 'tap'
import { findTicketByNumber } from '../../../src/data/tickets.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import type { Page } from '../../helpers/visitor.js'

const optionNames = (page: Page, selector: string): string[] => page.$(`${selector} option`).map((_, o) => page.$(o).text()).get().filter((name) => name !== 'Nobody' && name !== '—')

t.test('Assign lists offer only agents who accepted, are enabled and work the ticket’s department; the verb refuses the rest', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { support } = desk.departments
  const invitedId = await app.accounts.inviteAgent({ name: 'Ivy Invited', email: 'ivy@desk.test', isAdmin: false })
  await app.db('agent_departments').insert({ agent_id: invitedId, department_id: support, role: 'agent' })
  const dora = await app.accounts.createAgent({ name: 'Dora Disabled', email: 'dora@desk.test', password: 'a long passphrase', isAdmin: false })
  await app.db('agent_departments').insert({ agent_id: dora, department_id: support, role: 'manager' })
  await app.db('agents').where({ id: dora }).update({ active: false })
  const printerJam = await openTicket(app, desk.topics.broken)

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  let page = await bob.get(`/staff/tickets/${printerJam.number}`)
  t.same(optionNames(page, '#assign-agent'), ['Ada Lovelace', 'Bob Kahn'],
    'not the view-only Vic, the Billing people, the invited Ivy or the disabled Dora')

  page = await bob.get('/staff/queues/open')
  t.same(optionNames(page, '#bulk-agent'), ['Ada Lovelace', 'Bob Kahn', 'Mel Manager', 'Ned Nobody'], 'bulk: whoever works some department')
  page = await bob.get(`/staff/queues/open?department=${support}`)
  t.same(optionNames(page, '#bulk-agent'), ['Ada Lovelace', 'Bob Kahn'], 'bulk, filtered to one department: who works it')

  page = await bob.get(`/staff/tickets/${printerJam.number}`)
  for (const [who, id] of [['view only', desk.agents.vic.id], ['another department', desk.agents.ned.id], ['invited', invitedId], ['disabled', dora]] as const) {
    const refused = await bob.submit(page, `form[action="/staff/tickets/${printerJam.number}/assignment"]`, { agent: String(id) })
    t.match(refused.text, 'Choose an agent who works in this ticket’s department.', `an agent who is ${who} is refused when posted anyway`)
    t.equal((await findTicketByNumber(app.db, printerJam.number))!.assignee_id, null)
  }

  page = await bob.get('/staff/queues/open')
  const bulk = await bob.submit(page, 'form[action="/staff/bulk"]', { tickets: printerJam.number, action: 'assign', agent: String(desk.agents.vic.id) })
  t.match(bulk.text, '0 of 1 tickets updated.')
  t.match(bulk.text, 'Choose an agent who works in this ticket’s department.')

  page = await bob.get(`/staff/tickets/${printerJam.number}`)
  await bob.submit(page, `form[action="/staff/tickets/${printerJam.number}/assignment"]`, { agent: String(desk.agents.ada.id) })
  t.equal((await findTicketByNumber(app.db, printerJam.number))!.assignee_id, desk.agents.ada.id, 'an administrator works every department')

  await app.db('tickets').where({ number: printerJam.number }).update({ assignee_id: dora })
  page = await bob.get(`/staff/tickets/${printerJam.number}`)
  t.equal(page.$('#assign-agent option[selected]').text(), 'Dora Disabled', 'a ticket’s current assignee stays selected, so saving a team does not unassign them')
  await bob.submit(page, `form[action="/staff/tickets/${printerJam.number}/assignment"]`, { team: String(desk.teams.printers) })
  t.equal((await findTicketByNumber(app.db, printerJam.number))!.assignee_id, dora)
})

t.test('an agent without any department role is told why their queues are empty', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  await app.accounts.createAgent({ name: 'Nora New', email: 'nora@desk.test', password: 'correct horse battery', isAdmin: false })
  const { page: nora } = await signIn(app, 'nora@desk.test')
  t.match(nora.$('#no-role-hint').text(), 'You have no role in any department yet')
  t.match(nora.$('#no-role-hint').text(), 'An administrator must give you a role')
  const { page: bob } = await signIn(app, desk.agents.bob.email)
  t.equal(bob.$('#no-role-hint').length, 0, 'an agent with a role sees no such hint')
  const { page: ada } = await signIn(app, desk.agents.ada.email)
  t.equal(ada.$('#no-role-hint').length, 0, 'nor does an administrator')
})
