import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../../src/domain/errors.js'
import { testApp } from '../helpers/app.js'
import { openTicket, seedDesk, signIn, type Desk } from '../helpers/fixtures.js'
import { asAgent, ticketRow } from '../helpers/actors.js'
import { setDepartmentRole } from '../../src/data/agents.js'
import { listEvents } from '../../src/data/tickets.js'

type Outcome = 'done' | 'forbidden' | 'not found'

/** Every staff action, run by an agent on a fresh open ticket. */
const actions: Record<string, (app: FastifyInstance, desk: Desk, agentId: number, ticketId: number) => Promise<unknown>> = {
  reply: async (app, _, agentId, id) => await app.lifecycle.addResponse(await ticketRow(app, id), await asAgent(app, agentId), { body: 'Answer' }),
  note: async (app, _, agentId, id) => await app.lifecycle.addNote(await ticketRow(app, id), await asAgent(app, agentId), { body: 'Note' }),
  claim: async (app, _, agentId, id) => await app.lifecycle.claimTicket(await ticketRow(app, id), await asAgent(app, agentId)),
  assign: async (app, desk, agentId, id) => await app.lifecycle.assignTicket(await ticketRow(app, id), await asAgent(app, agentId), { agentId: null, teamId: desk.teams.printers }),
  transfer: async (app, desk, agentId, id) => {
    const ticket = await ticketRow(app, id)
    const elsewhere = ticket.department_id === desk.departments.support ? desk.departments.billing : desk.departments.support
    await app.lifecycle.transferTicket(ticket, await asAgent(app, agentId), { departmentId: elsewhere })
  },
  priority: async (app, _, agentId, id) => await app.lifecycle.changePriority(await ticketRow(app, id), await asAgent(app, agentId), { priority: 4 }),
  resolve: async (app, _, agentId, id) => await app.lifecycle.resolveTicket(await ticketRow(app, id), await asAgent(app, agentId)),
  close: async (app, _, agentId, id) => await app.lifecycle.closeTicket(await ticketRow(app, id), await asAgent(app, agentId)),
  merge: async (app, desk, agentId, id) => {
    const target = await openTicket(app, desk.topics.billing, 'Merge target')
    await app.lifecycle.mergeTicket(await ticketRow(app, id), await asAgent(app, agentId), { target: await ticketRow(app, target.id) })
  },
  delete: async (app, _, agentId, id) => await app.lifecycle.deleteTicket(await ticketRow(app, id), await asAgent(app, agentId))
}

const managerOnly = new Set(['merge', 'delete'])

/** What each person may do: the role of the ticket's department decides. */
function expected (agent: string, department: 'support' | 'billing', action: string): Outcome {
  const role = agent === 'ada'
    ? 'manager'
    : ({ bob: { support: 'agent' }, vic: { support: 'view' }, mel: { billing: 'manager' }, ned: { billing: 'agent' } } as Record<string, Record<string, string>>)[agent]![department]
  if (!role) return 'not found'
  if (role === 'view') return 'forbidden'
  if (managerOnly.has(action) && role !== 'manager') return 'forbidden'
  return 'done'
}

t.test('role × action × department', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  for (const agent of ['ada', 'bob', 'vic', 'mel', 'ned'] as const) {
    for (const department of ['support', 'billing'] as const) {
      for (const [action, run] of Object.entries(actions)) {
        const ticket = await openTicket(app, department === 'support' ? desk.topics.broken : desk.topics.billing)
        const outcome: Outcome = await run(app, desk, desk.agents[agent].id, ticket.id).then(
          () => 'done',
          (err: unknown) => {
            if (!(err instanceof TesseraError)) throw err
            if (err.code === 'TESSERA_NOT_FOUND') return 'not found'
            if (err.code === 'TESSERA_FORBIDDEN') return 'forbidden'
            if (action === 'merge' && err.code === 'TESSERA_INVALID_INPUT') return 'no target'
            throw err
          }) as Outcome
        let want = expected(agent, department, action)
        // A merge target lives in Billing: agents who cannot see Billing are told there is no such ticket.
        if (action === 'merge' && want === 'done' && expected(agent, 'billing', 'read') === 'not found') want = 'no target' as Outcome
        t.equal(outcome, want, `${agent} ${action} on a ${department} ticket: ${want}`)
      }
    }
  }
})

t.test('an assigned ticket outside the agent\'s departments is theirs to work', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const billingTicket = await openTicket(app, desk.topics.billing)
  const bob = await asAgent(app, desk.agents.bob.id)
  const ada = await asAgent(app, desk.agents.ada.id)
  await t.rejects(app.lifecycle.addResponse(await ticketRow(app, billingTicket.id), bob, { body: 'Hi' }), { code: 'TESSERA_NOT_FOUND' })
  await t.rejects(app.lifecycle.assignTicket(await ticketRow(app, billingTicket.id), ada, { agentId: desk.agents.bob.id, teamId: null }), { code: 'TESSERA_INVALID_INPUT' }, 'nobody is given a ticket of a department they have no working role in')
  // Assigned in Support, then transferred to Billing: still Bob's to work.
  const ticket = await openTicket(app, desk.topics.broken)
  await app.lifecycle.assignTicket(await ticketRow(app, ticket.id), ada, { agentId: desk.agents.bob.id, teamId: null })
  await app.lifecycle.transferTicket(await ticketRow(app, ticket.id), ada, { departmentId: desk.departments.billing })
  t.equal((await ticketRow(app, ticket.id)).assignee_id, desk.agents.bob.id)
  await app.lifecycle.addResponse(await ticketRow(app, ticket.id), bob, { body: 'Hi' })
  const other = await openTicket(app, desk.topics.broken, 'Another')
  await t.rejects(app.lifecycle.mergeTicket(await ticketRow(app, ticket.id), bob, { target: await ticketRow(app, other.id) }), { code: 'TESSERA_FORBIDDEN' })
})

t.test('pages follow the same scope: other departments\' tickets are 404 and absent from queues', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const support = await openTicket(app, desk.topics.broken, 'Support matter')
  const billing = await openTicket(app, desk.topics.billing, 'Billing matter')
  for (const [agent, sees] of [['ada', ['support', 'billing']], ['bob', ['support']], ['vic', ['support']], ['mel', ['billing']]] as const) {
    const { visitor, page } = await signIn(app, desk.agents[agent].email)
    for (const [name, ticket] of [['support', support], ['billing', billing]] as const) {
      const visible = (sees as readonly string[]).includes(name)
      t.equal((await visitor.get(`/staff/tickets/${ticket.number}`)).status, visible ? 200 : 404, `${agent} ${visible ? 'sees' : 'cannot see'} the ${name} ticket`)
      t.equal(page.$(`td.number:contains("${ticket.number}")`).length > 0, visible, `${agent}'s queue ${visible ? 'lists' : 'hides'} the ${name} ticket`)
    }
  }
  const { visitor: vic } = await signIn(app, desk.agents.vic.email)
  const page = await vic.get(`/staff/tickets/${support.number}`)
  t.equal(page.$('form.composer').length, 0, 'a viewer gets no reply form')
  t.equal(page.$('button:contains("Resolve")').length, 0, 'nor status buttons')
})

t.test('merging needs a working role on both tickets: a viewer of the target department cannot merge into it (issue 8, finding 6)', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  // Mel manages Billing and may only view Support.
  await setDepartmentRole(app.db, desk.agents.mel.id, desk.departments.support, 'view')
  const source = await openTicket(app, desk.topics.billing, 'Invoice printer jams')
  const target = await openTicket(app, desk.topics.broken, 'Printer jams')
  const { visitor: mel } = await signIn(app, desk.agents.mel.email)
  const page = await mel.get(`/staff/tickets/${source.number}`)
  const refused = await mel.submit(page, `form[action="/staff/tickets/${source.number}/merge"]`, { target: target.number })
  t.match(refused.text, `Your role in the department of ticket ${target.number} does not allow merging into it.`)
  t.equal((await ticketRow(app, source.id)).merged_into_id, null, 'the ticket was not merged')
  t.equal((await ticketRow(app, source.id)).status, 'open')
  t.same((await listEvents(app.db, target.id)).map((e) => e.type), ['created'], 'the target records nothing')

  await setDepartmentRole(app.db, desk.agents.mel.id, desk.departments.support, 'agent')
  const merged = await mel.submit(await mel.get(`/staff/tickets/${source.number}`), `form[action="/staff/tickets/${source.number}/merge"]`, { target: target.number })
  t.match(merged.text, `Merged into ticket ${target.number}.`, 'with a working role on the target the merge goes through')
  t.equal((await ticketRow(app, source.id)).merged_into_id, target.id)
})
