import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'

t.test('the print view shows the thread, with internal notes only when chosen, and only to those who may read the ticket', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  let page = await bob.get(`/staff/tickets/${ticket.number}`)
  page = await bob.submit(page, 'form.composer', { message: 'Internal: the fuser is worn.', intent: 'note' })
  t.match(page.text, 'Internal note added.')

  const plain = await bob.submit(page, `form[action="/staff/tickets/${ticket.number}/print"]`)
  t.equal(plain.status, 200)
  t.equal(plain.url, `/staff/tickets/${ticket.number}/print?`, 'a plain GET form chose it')
  t.match(plain.text, 'The second page always jams.')
  t.notMatch(plain.text, 'the fuser is worn', 'notes are left out unless chosen')
  t.equal(plain.$('script').length, 0, 'no JavaScript')
  t.match(plain.$('link[rel=stylesheet]').attr('href'), /print\.css/)

  const withNotes = await bob.submit(page, `form[action="/staff/tickets/${ticket.number}/print"]`, { notes: '1' })
  t.match(withNotes.text, 'Internal: the fuser is worn.')
  const css = await app.inject({ method: 'GET', url: withNotes.$('link[rel=stylesheet]').attr('href')! })
  t.match(css.body, '@media print', 'the stylesheet lays it out for paper')

  const { visitor: ned } = await signIn(app, desk.agents.ned.email)
  t.equal((await ned.get(`/staff/tickets/${ticket.number}/print`)).status, 404, 'an agent who cannot see the ticket finds nothing')

  await assertValidDocuments(t, { print: plain.html, printWithNotes: withNotes.html })
})

t.test('the satisfaction page scores departments, agents and teams for managers and administrators only', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const rows = [['great', desk.agents.bob.id], ['great', desk.agents.bob.id], ['okay', desk.agents.bob.id], ['not_good', desk.agents.bob.id]] as const
  for (const [rating, agentId] of rows) {
    const ticket = await openTicket(app, desk.topics.broken)
    await app.db('satisfaction_surveys').insert({
      ticket_id: ticket.id, department_id: desk.departments.support, agent_id: agentId, team_id: desk.teams.printers, closed_at: 0, invited_at: 0, rating, rated_at: 0, changed_at: 0, created_at: 0
    })
  }
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.get('/staff/satisfaction')
  t.equal(page.status, 200)
  const row = (group: string, name: string): string[] => page.$(`table[aria-labelledby="scores-${group}"] tr:has(th:contains("${name}")) td`).map((_, td) => page.$(td).text()).get()
  t.same(row('agents', 'Bob Kahn'), ['25', '2', '1', '1', '4'], '% Great minus % Not good: 50 − 25')
  t.same(row('departments', 'Support'), ['25', '2', '1', '1', '4'])
  t.same(row('teams', 'Printers'), ['25', '2', '1', '1', '4'])

  const { visitor: mel } = await signIn(app, desk.agents.mel.email)
  const melPage = await mel.get('/staff/satisfaction')
  t.equal(melPage.status, 200, 'a manager reads the page')
  t.match(melPage.text, 'No answers yet.', 'counting only the departments she manages')
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get('/staff/satisfaction')).status, 403, 'an agent does not')

  await assertValidDocuments(t, { satisfaction: page.html })
})
