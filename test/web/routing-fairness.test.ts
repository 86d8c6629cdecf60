import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Knex } from 'knex'
import { addTeamMember, setDepartmentRole } from '../../src/data/agents.js'
import type { RoutingStrategy } from '../../src/data/routing.js'
import { sharedApps } from '../helpers/app.js'
import { password, seedDesk } from '../helpers/fixtures.js'

// A thousand tickets through the whole creation path take a few minutes on a shared machine.
t.setTimeout(900_000)

/** Four instances on one database; Ann, Ben, Cat and Dov are the Printers team, which routes `strategy`. */
async function printersOnFourInstances (t: Test, strategy: RoutingStrategy): Promise<{ apps: FastifyInstance[], db: Knex, agents: number[], topic: number }> {
  const apps = await sharedApps(t, 4, {}, { startWorkers: false })
  const first = apps[0]!
  const desk = await seedDesk(first)
  const { db } = first
  await db('team_members').where({ team_id: desk.teams.printers }).delete()
  const agents: number[] = []
  for (const name of ['Ann', 'Ben', 'Cat', 'Dov']) {
    const id = await first.accounts.createAgent({ name, email: `${name.toLowerCase()}@desk.test`, password, isAdmin: false })
    await setDepartmentRole(db, id, desk.departments.support, 'agent')
    await addTeamMember(db, desk.teams.printers, id)
    agents.push(id)
  }
  await db('teams').where({ id: desk.teams.printers }).update({ routing: strategy })
  await db('help_topics').where({ id: desk.topics.broken }).update({ default_team_id: desk.teams.printers })
  return { apps, db, agents, topic: desk.topics.broken }
}

/** `clients` clients at once, each sending `each` tickets one after the other, spread over the instances. */
async function tenClients (apps: FastifyInstance[], topic: number, each: number, clients = 10): Promise<void> {
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    for (let i = 0; i < each; i++) {
      await apps[(client + i) % apps.length]!.lifecycle.openTicket({
        name: `Client ${client}`, email: `client${client}@example.com`, subject: `Ticket ${i}`, message: 'Help.', helpTopicId: topic
      })
    }
  }))
}

/** Open and pending tickets per agent (0 for an agent with none). */
async function openPerAgent (db: Knex, agents: number[]): Promise<number[]> {
  const rows: Array<{ assignee_id: number, n: number | string }> = await db('tickets').whereIn('status', ['open', 'pending'])
    .groupBy('assignee_id').select('assignee_id').count({ n: '*' })
  const counts = new Map(rows.map((row) => [Number(row.assignee_id), Number(row.n)]))
  return agents.map((agent) => counts.get(agent) ?? 0)
}

t.test('round robin stays fair under load: 1,000 tickets from 10 clients on 4 instances give 4 agents 250 each', async (t) => {
  const { apps, db, agents, topic } = await printersOnFourInstances(t, 'round_robin')

  await tenClients(apps, topic, 100)

  const rows: Array<{ assignee_id: number, n: number | string }> = await db('tickets').groupBy('assignee_id').select('assignee_id').count({ n: '*' })
  const counts = new Map(rows.map((row) => [Number(row.assignee_id), Number(row.n)]))
  t.equal([...counts.values()].reduce((a, b) => a + b, 0), 1000, 'a thousand tickets')
  for (const agent of agents) {
    const n = counts.get(agent) ?? 0
    t.ok(n >= 249 && n <= 251, `agent ${agent} got ${n} (250 ± 1)`)
  }
  const events = await db('events').where({ type: 'assigned', actor_kind: 'system' }).count({ n: '*' }).first() as { n: number | string }
  t.equal(Number(events.n), 1000, 'each assignment is an event')
})

t.test('fewest open tickets stays balanced under load: 400 tickets from 10 clients on 4 instances, then a gap is filled first', async (t) => {
  const { apps, db, agents, topic } = await printersOnFourInstances(t, 'fewest_open')

  await tenClients(apps, topic, 40)
  const loads = await openPerAgent(db, agents)
  t.equal(loads.reduce((a, b) => a + b, 0), 400, 'four hundred open tickets, all assigned')
  t.ok(Math.max(...loads) - Math.min(...loads) <= 1, `each agent has 100 ± 1 (${loads.join(', ')})`)

  // Ann closes six of hers; the next tickets go to her until she is level with the others.
  const ann = agents[0]!
  const hers = await db('tickets').where({ assignee_id: ann, status: 'open' }).orderBy('id').limit(6).pluck('id')
  await db('tickets').whereIn('id', hers).update({ status: 'closed' })
  const before = await db('tickets').max({ id: 'id' }).first() as { id: number | string }
  await tenClients(apps, topic, 1)
  const toAnn = await db('tickets').where('id', '>', Number(before.id)).andWhere({ assignee_id: ann }).count({ n: '*' }).first() as { n: number | string }
  t.ok(Number(toAnn.n) >= 6, `Ann, six behind, got at least six of the next ten (${String(toAnn.n)})`)
  const after = await openPerAgent(db, agents)
  t.ok(Math.max(...after) - Math.min(...after) <= 1, `and the load is level again (${after.join(', ')})`)
  const events = await db('events').where({ type: 'assigned', actor_kind: 'system' }).count({ n: '*' }).first() as { n: number | string }
  t.equal(Number(events.n), 410, 'each assignment is an event')
})
