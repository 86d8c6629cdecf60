import t from 'tap'
import { listOutbox } from '../../src/data/outbox.js'
import { putSetting } from '../../src/data/settings.js'
import { testApp } from '../helpers/app.js'
import { openTicket, seedDesk } from '../helpers/fixtures.js'

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
  const bob = { kind: 'agent' as const, agentId: desk.agents.bob.id }
  await app.lifecycle.assignTicket(ticket.id, bob, { agentId: desk.agents.bob.id, teamId: null })
  t.same(await sent(app, ticket.id), [], 'nobody is told about what they did themselves')
  await app.lifecycle.assignTicket(ticket.id, { kind: 'agent', agentId: desk.agents.ada.id }, { agentId: desk.agents.bob.id, teamId: desk.teams.printers })
  t.same(await sent(app, ticket.id), ['ticket_assigned → bob@desk.test'], 'members of a newly assigned team hear of it (Bob is on Printers)')

  await app.db('outbox').delete()
  await app.lifecycle.addClientReply(ticket.id, (await app.db('tickets').where({ id: ticket.id }).first()).requester_id, 'Any news?')
  t.same(await sent(app, ticket.id), ['client_message → bob@desk.test'], 'the assignee hears when the requester writes')

  await app.db('outbox').delete()
  await app.lifecycle.transferTicket(ticket.id, bob, desk.departments.billing)
  t.same(await sent(app, ticket.id), ['ticket_transferred → ada@desk.test', 'ticket_transferred → mel@desk.test', 'ticket_transferred → ned@desk.test'])

  await app.db('outbox').delete()
  await app.lifecycle.closeTicket(ticket.id, { kind: 'agent', agentId: desk.agents.ada.id })
  t.same(await sent(app, ticket.id), ['ticket_closed → grace@example.com'])
})

t.test('a notice switched off in settings is not queued', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  await putSetting(app.db, 'notice.new_ticket', 'off')
  const ticket = await openTicket(app, desk.topics.broken)
  t.same(await sent(app, ticket.id), ['ticket_received → grace@example.com'])
})
