import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { programs, skipWithout } from '../../helpers/programs.js'
import type { Page } from '../../helpers/visitor.js'

const skip = skipWithout(programs.java)

t.test('every departments, help topics and teams page, in each of its states, is valid HTML', { skip }, async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const pages: Record<string, Page> = {}
  const keep = (name: string, page: Page, status: number, shows: string): void => {
    t.equal(page.status, status, `${name}: status ${status}`)
    t.match(page.text, shows, `${name}: shows “${shows}”`)
    pages[name] = page
  }
  const awkward = 'Returns “&” <b>refunds</b>'
  await openTicket(app, desk.topics.billing, 'Invoice is wrong')

  const departments = await ada.get('/staff/admin/departments')
  keep('departments', departments, 200, 'New department')
  keep('departments with errors', await ada.submit(departments, 'form[action="/staff/admin/departments"]', { name: 'Billing', senderAddress: 'nope' }), 422, 'There is a problem')
  const created = await ada.submit(departments, 'form[action="/staff/admin/departments"]', { name: awkward, senderName: 'Returns <desk>', senderAddress: 'returns@desk.test' })
  keep('new department with a flash', created, 200, 'created')
  const withAddress = await ada.submit(created, 'form[action$="/addresses"]', { address: 'returns-in@desk.test' })
  keep('department with an address', withAddress, 200, 'returns-in@desk.test')
  keep('department with an address error', await ada.submit(withAddress, 'form[action$="/addresses"]', { address: 'not an address' }), 422, 'is not an e-mail address')
  const billing = await ada.get(`/staff/admin/departments/${desk.departments.billing}`)
  keep('department holding tickets', billing, 200, 'Move its tickets')
  keep('department move with an error', await ada.submit(billing, 'form[action$="/transfer"]', { department: '' }), 422, 'Choose the department')
  keep('archived department', await ada.submit(billing, 'form[action$="/archival"]'), 200, '(archived)')

  const topics = await ada.get('/staff/admin/topics')
  keep('help topics', topics, 200, 'New help topic')
  keep('help topics with errors', await ada.submit(topics, 'form[action="/staff/admin/topics"]', { name: '', sortOrder: 'x' }), 422, 'There is a problem')
  const topic = await ada.submit(topics, 'form[action="/staff/admin/topics"]', { name: awkward, department: String(desk.departments.support), team: String(desk.teams.printers), agent: String(desk.agents.bob.id), priority: '4' })
  keep('help topic', topic, 200, 'created')
  keep('retired help topic', await ada.submit(topic, 'form[action$="/retirement"]'), 200, '(retired)')

  const teams = await ada.get('/staff/admin/teams')
  keep('teams', teams, 200, 'New team')
  keep('teams with errors', await ada.submit(teams, 'form[action="/staff/admin/teams"]', { name: 'Printers' }), 422, 'There is a problem')
  const team = await ada.submit(teams, 'form[action="/staff/admin/teams"]', { name: awkward })
  keep('empty team', team, 200, 'No members yet.')
  const member = await ada.submit(team, 'form[action$="/members"]', { agent: String(desk.agents.bob.id) })
  keep('team with a member', member, 200, 'Member added.')
  keep('team with a lead error', await ada.submit(member, 'form[action^="/staff/admin/teams/"]:not([action$="/members"]):not([action$="/deletion"]):not([action$="/removal"])', { lead: String(desk.agents.ned.id) }), 422, 'Choose the lead')
  keep('team queue', await ada.get(`/staff/queues/open?team=${desk.teams.printers}`), 200, 'All open')

  await assertValidDocuments(t, Object.fromEntries(Object.entries(pages).map(([name, page]) => [name, page.html])))
})
