import t from 'tap'
import { findAgentByEmail } from '../../../src/data/agents.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { programs, skipWithout } from '../../helpers/programs.js'
import type { Page } from '../../helpers/visitor.js'

const skip = skipWithout(programs.java)

t.test('the agent pages, in each of their states, are valid HTML', { skip }, async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const pages: Record<string, Page> = {}
  const keep = (name: string, page: Page, status: number, shows: string): void => {
    t.equal(page.status, status, `${name}: status ${status}`)
    t.match(page.text, shows, `${name}: shows “${shows}”`)
    pages[name] = page
  }

  const list = await ada.get('/staff/admin/agents')
  keep('agent list', list, 200, 'Invite an agent')
  keep('invite with errors', await ada.submit(list, 'form[action="/staff/admin/agents"]', { name: '', email: 'nope', [`role_${desk.departments.support}`]: 'owner' }), 422, 'There is a problem')
  keep('agent list with an invitation', await ada.submit(list, 'form[action="/staff/admin/agents"]', { name: 'Zoe Zhang', email: 'zoe@desk.test' }), 200, 'Invited')
  const zoe = (await findAgentByEmail(app.db, 'zoe@desk.test'))!
  keep('invited agent', await ada.get(`/staff/admin/agents/${zoe.id}`), 200, 'Send the invitation again')
  const bob = await ada.get(`/staff/admin/agents/${desk.agents.bob.id}`)
  keep('active agent', bob, 200, 'Send a password reset link')
  keep('agent with errors', await ada.submit(bob, `form[action="/staff/admin/agents/${desk.agents.bob.id}"]`, { name: 'B'.repeat(200), email: 'vic@desk.test' }), 422, 'There is a problem')
  const ticket = await openTicket(app, desk.topics.broken)
  await app.db('tickets').where({ id: ticket.id }).update({ assignee_id: desk.agents.bob.id })
  keep('disabled agent with tickets', await ada.submit(bob, `form[action="/staff/admin/agents/${desk.agents.bob.id}/disablement"]`), 200, 'Release all 1')
  keep('the last administrator refused', await ada.submit(await ada.get(`/staff/admin/agents/${desk.agents.ada.id}`), `form[action="/staff/admin/agents/${desk.agents.ada.id}/disablement"]`), 422, 'needs another administrator')
  await assertValidDocuments(t, Object.fromEntries(Object.entries(pages).map(([name, page]) => [name, page.html])))
})
