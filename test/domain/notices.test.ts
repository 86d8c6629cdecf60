import t from 'tap'
import { listOutbox } from '../../src/data/outbox.js'
import { putSetting } from '../../src/data/settings.js'
import { testApp } from '../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../helpers/fixtures.js'
import { asAgent, asRequester, ticketRow } from '../helpers/actors.js'
import { addTeamMember } from '../../src/data/agents.js'

const sent = async (app: Awaited<ReturnType<typeof testApp>>, ticketId: number): Promise<string[]> =>
  (await listOutbox(app.db, { ticketId })).map((m) => `${m.template} → ${m.to_address}`)

t.test('who hears about what happens to a ticket', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  t.same(await sent(app, ticket.id), [
    'ticket_received → grace@example.com',
    'new_ticket → ada@desk.test',
    'new_ticket → bob@desk.test'
  ], 'the requester gets the link; the agents of Support hear of it (Vic only views, so not Vic)')

  await app.db('outbox').delete()
  const bob = await asAgent(app, desk.agents.bob.id)
  const ada = await asAgent(app, desk.agents.ada.id)
  await app.lifecycle.assignTicket(await ticketRow(app, ticket.id), bob, { agentId: desk.agents.bob.id, teamId: null })
  t.same(await sent(app, ticket.id), [], 'nobody is told about what they did themselves')
  await app.lifecycle.assignTicket(await ticketRow(app, ticket.id), ada, { agentId: desk.agents.bob.id, teamId: desk.teams.printers })
  t.same(await sent(app, ticket.id), ['ticket_assigned → bob@desk.test'], 'members of a newly assigned team hear of it (Bob is on Printers)')

  await app.db('outbox').delete()
  const current = await ticketRow(app, ticket.id)
  await app.lifecycle.addClientReply(current, asRequester(current), { body: 'Any news?' })
  t.same(await sent(app, ticket.id), ['client_message → bob@desk.test'], 'the assignee hears when the requester writes')

  await app.db('outbox').delete()
  await app.lifecycle.transferTicket(await ticketRow(app, ticket.id), bob, { departmentId: desk.departments.billing })
  t.same(await sent(app, ticket.id), ['ticket_transferred → ada@desk.test', 'ticket_transferred → mel@desk.test', 'ticket_transferred → ned@desk.test'])

  await app.db('outbox').delete()
  await app.lifecycle.closeTicket(await ticketRow(app, ticket.id), ada)
  t.same(await sent(app, ticket.id), ['ticket_closed → grace@example.com'])
})

t.test('a notice switched off in settings is not queued', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  await putSetting(app.db, 'notice.new_ticket', 'off')
  const ticket = await openTicket(app, desk.topics.broken)
  t.same(await sent(app, ticket.id), ['ticket_received → grace@example.com'])
})

t.test('a team notice reaches only the members who can open the ticket (issue 8, finding 22)', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  // Ned works Billing only; on the Printers team he has no role in Support.
  await addTeamMember(app.db, desk.teams.printers, desk.agents.ned.id)
  await addTeamMember(app.db, desk.teams.printers, desk.agents.vic.id)
  const ticket = await openTicket(app, desk.topics.broken)
  await app.db('outbox').delete()
  await app.lifecycle.assignTicket(await ticketRow(app, ticket.id), await asAgent(app, desk.agents.ada.id), { agentId: null, teamId: desk.teams.printers })
  t.same(await sent(app, ticket.id), ['ticket_assigned → bob@desk.test', 'ticket_assigned → vic@desk.test'],
    'Bob (agent) and Vic (viewer) can open a Support ticket and hear of it; Ned, who cannot, does not')
  const { visitor: ned } = await signIn(app, desk.agents.ned.email)
  t.equal((await ned.get(`/staff/tickets/${ticket.number}`)).status, 404, 'Ned indeed cannot open it')
})
