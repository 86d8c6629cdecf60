import t from 'tap'
import { loadAgentAccess, type AgentAccess } from '../../src/data/agents.js'
import { agentsWhoMay, countQueues, whereAgentMay } from '../../src/data/queues.js'
import { findTicketById, type TicketRow } from '../../src/data/tickets.js'
import { allowedActions, staffActions, statuses } from '../../src/domain/permissions.js'
import { testApp } from '../helpers/app.js'
import { openTicket, password, seedDesk } from '../helpers/fixtures.js'

/*
 * The permission rule lives once in TypeScript (allowedActions) and is mirrored by the SQL
 * scopes that lists and lookups use. This pins the two to the same answer for every role ×
 * status × action, for tickets assigned to the agent, to someone else and to nobody, and for
 * an agent with no department at all.
 */
t.test('the SQL scopes answer exactly what allowedActions answers', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const nobody = await app.accounts.createAgent({ name: 'Nora Nobody', email: 'nora@desk.test', password, isAdmin: false })
  const agentIds = { ...Object.fromEntries(Object.entries(desk.agents).map(([key, agent]) => [key, agent.id])), nora: nobody }

  const tickets: TicketRow[] = []
  for (const topic of [desk.topics.broken, desk.topics.billing]) {
    for (const status of statuses) {
      for (const assignee of [null, desk.agents.bob.id, desk.agents.vic.id, nobody]) {
        const opened = await openTicket(app, topic, `${status} ticket`)
        await app.db('tickets').where({ id: opened.id }).update({ status, assignee_id: assignee })
        tickets.push((await findTicketById(app.db, opened.id))!)
      }
    }
  }
  const accesses: Array<[string, AgentAccess]> = []
  for (const [name, id] of Object.entries(agentIds)) accesses.push([name, (await loadAgentAccess(app.db, id))!])
  const ids = tickets.map((ticket) => ticket.id)

  for (const [name, access] of accesses) {
    for (const action of staffActions) {
      const query = app.db('tickets as t').whereIn('t.id', ids).select('t.id').orderBy('t.id')
      const bySql = (await whereAgentMay(query, access, action)).map((row: { id: number }) => row.id)
      const byRule = tickets.filter((ticket) => allowedActions(access, ticket).has(action)).map((ticket) => ticket.id)
      t.same(bySql, byRule, `${name} may ${action}: the same tickets in SQL and in TypeScript`)
    }
  }

  // The queue counts split the read scope in two for the indexes; they must still count what the rule shows.
  for (const [name, access] of accesses) {
    const counts = await countQueues(app.db, access)
    for (const status of statuses) {
      const byRule = tickets.filter((ticket) => ticket.status === status && allowedActions(access, ticket).has('read')).length
      t.equal(counts[status], byRule, `${name}'s ${status} count matches the tickets ${name} may read`)
    }
  }

  for (const ticket of tickets) {
    for (const action of staffActions) {
      const query = app.db('agents as a').whereIn('a.id', Object.values(agentIds)).select('a.id').orderBy('a.id')
      const bySql = (await agentsWhoMay(query, ticket, action)).map((row: { id: number }) => row.id)
      const byRule = accesses.filter(([, access]) => allowedActions(access, ticket).has(action)).map(([, access]) => access.id).sort((a, b) => a - b)
      t.same(bySql, byRule, `who may ${action} a ${ticket.status} ticket of department ${ticket.department_id} assigned to ${ticket.assignee_id ?? 'nobody'}`)
    }
  }
})
