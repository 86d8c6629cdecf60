import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { addTeamMember, setDepartmentRole } from '../../../src/data/agents.js'
import { testApp, testClock } from '../../helpers/app.js'
import { openTicket, password, seedDesk, signIn, type Desk } from '../../helpers/fixtures.js'
import { Visitor } from '../../helpers/visitor.js'

// Several app instances, sign-ins and many tickets: minutes on a busy shared machine.
t.setTimeout(600_000)

/**
 * The Printers team takes every "Something is broken" ticket; Bob, Cleo and Dan work
 * Support and are on it, Vic (view only in Support) is on it too but never gets one.
 */
async function printersDesk (app: FastifyInstance): Promise<Desk & { cleo: number, dan: number }> {
  const desk = await seedDesk(app)
  const member = async (name: string): Promise<number> => {
    const id = await app.accounts.createAgent({ name, email: `${name.toLowerCase()}@desk.test`, password, isAdmin: false })
    await setDepartmentRole(app.db, id, desk.departments.support, 'agent')
    await addTeamMember(app.db, desk.teams.printers, id)
    return id
  }
  const cleo = await member('Cleo')
  const dan = await member('Dan')
  await addTeamMember(app.db, desk.teams.printers, desk.agents.vic.id)
  await app.db('help_topics').where({ id: desk.topics.broken }).update({ default_team_id: desk.teams.printers })
  return { ...desk, cleo, dan }
}

async function chooseStrategy (app: FastifyInstance, desk: Desk, label: RegExp): Promise<string> {
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.get(`/staff/admin/teams/${desk.teams.printers}`)
  const option = page.$('#routing-routing option').filter((_, o) => label.test(page.$(o).text())).attr('value')!
  const saved = await ada.submit(page, `form[action="/staff/admin/teams/${desk.teams.printers}/routing"]`, { routing: option })
  return saved.text
}

const assignees = async (app: FastifyInstance, ids: number[]): Promise<Array<number | null>> =>
  await Promise.all(ids.map(async (id) => (await app.db('tickets').where({ id }).first('assignee_id')).assignee_id as number | null))

t.test('round robin hands portal tickets to each working member in turn, as an event naming the rule, and tells that agent', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await printersDesk(app)
  t.match(await chooseStrategy(app, desk, /Round robin/), 'Routing saved.')

  const visitor = new Visitor(app)
  const ids: number[] = []
  for (let i = 0; i < 6; i++) {
    const form = await visitor.get('/tickets/new')
    const topic = form.$('select[name=topic] option').filter((_, o) => form.$(o).text() === 'Something is broken').attr('value')!
    const sent = await visitor.submit(form, 'form[action="/tickets"]', { topic, name: 'Grace Hopper', email: 'grace@example.com', subject: `Printer ${i}`, message: 'It jams.' })
    const number = /Ticket (\d{6,12}) received/.exec(sent.text)?.[1]
    ids.push((await app.db('tickets').where({ number }).first('id')).id as number)
  }
  const got = await assignees(app, ids)
  t.same(got, [desk.agents.bob.id, desk.cleo, desk.dan, desk.agents.bob.id, desk.cleo, desk.dan], 'Bob, Cleo, Dan, and again; never Vic, who may only view')
  t.same([...new Set((await app.db('tickets').whereIn('id', ids).select('team_id')).map((r: { team_id: number }) => r.team_id))], [desk.teams.printers], 'the team stays on them')

  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const number = (await app.db('tickets').where({ id: ids[0] }).first('number')).number as string
  const ticketPage = await ada.get(`/staff/tickets/${number}`)
  t.match(ticketPage.text, /Tessera assigned the ticket to Bob Kahn and Printers by the Printers rule/, 'the history names the rule')

  const told = await app.db('outbox').where({ template: 'ticket_assigned', ticket_id: ids[0] }).pluck('to_address')
  t.same(told, [desk.agents.bob.email], 'the agent is told, not the whole team')
})

t.test('round robin skips members who are away, disabled or without a working role, and takes them back when they return', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await printersDesk(app)
  await chooseStrategy(app, desk, /Round robin/)
  await app.db('agents').where({ id: desk.cleo }).update({ away_until: clock.now() + 86_400_000 })
  await app.db('agents').where({ id: desk.dan }).update({ active: false })

  const first = [await openTicket(app, desk.topics.broken), await openTicket(app, desk.topics.broken)]
  t.same(await assignees(app, first.map((x) => x.id)), [desk.agents.bob.id, desk.agents.bob.id], 'only Bob works today')

  clock.advance(86_400_000)
  const later = [await openTicket(app, desk.topics.broken), await openTicket(app, desk.topics.broken)]
  t.same([...(await assignees(app, later.map((x) => x.id)))].sort(), [desk.agents.bob.id, desk.cleo].sort(), 'Cleo is back in the rotation once her away date has passed')

  await app.db('agents').whereIn('id', [desk.agents.bob.id, desk.cleo]).update({ away_until: clock.now() + 3_600_000 })
  const nobody = await openTicket(app, desk.topics.broken)
  const row = await app.db('tickets').where({ id: nobody.id }).first('assignee_id', 'team_id')
  t.same(row, { assignee_id: null, team_id: desk.teams.printers }, 'with nobody available the ticket waits on the team')
})

t.test('fewest open tickets picks the least busy member; the topic’s own agent comes first unless away', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await printersDesk(app)
  t.match(await chooseStrategy(app, desk, /Fewest open/), 'Routing saved.')
  const busy = async (agentId: number, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await app.db('tickets').where({ id: (await openTicket(app, desk.topics.billing)).id }).update({ assignee_id: agentId })
  }
  await busy(desk.agents.bob.id, 3)
  await busy(desk.cleo, 1)
  const next = [await openTicket(app, desk.topics.broken), await openTicket(app, desk.topics.broken), await openTicket(app, desk.topics.broken)]
  const got = await assignees(app, next.map((x) => x.id))
  t.equal(got[0], desk.dan, 'Dan had none')
  t.same([got[1], got[2]].sort(), [desk.cleo, desk.dan].sort(), 'then Cleo and Dan, both at one, before Bob with three')

  await app.db('help_topics').where({ id: desk.topics.broken }).update({ default_agent_id: desk.agents.bob.id })
  t.same(await assignees(app, [(await openTicket(app, desk.topics.broken)).id]), [desk.agents.bob.id], 'a topic that names Bob gives Bob the ticket')
  await app.db('agents').where({ id: desk.agents.bob.id }).update({ away_until: clock.now() + 60_000 })
  const whileAway = (await assignees(app, [(await openTicket(app, desk.topics.broken)).id]))[0]
  t.not(whileAway, desk.agents.bob.id, 'while Bob is away the team’s strategy picks someone else')
  t.ok(whileAway !== null)
})

t.test('the routing form refuses a strategy it does not offer with 422 beside the field, and logs real changes', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await printersDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.get(`/staff/admin/teams/${desk.teams.printers}`)
  t.equal(page.$('#routing-routing option[selected]').attr('value'), 'none', 'no strategy until chosen')
  const refused = await ada.submit(page, `form[action="/staff/admin/teams/${desk.teams.printers}/routing"]`, { routing: 'lottery' })
  t.equal(refused.status, 422)
  t.match(refused.$('#routing-routing-error').text(), 'Choose one of the strategies listed.')
  t.equal((await app.db('teams').where({ id: desk.teams.printers }).first('routing')).routing, 'none')

  await chooseStrategy(app, desk, /Round robin/)
  t.match(await chooseStrategy(app, desk, /Round robin/), 'Nothing had changed.', 'the same strategy again is calm')
  const log = await ada.get('/staff/admin/log?subject=team')
  t.equal(log.$('tbody tr').filter((_, r) => /routing_changed|routing/.test(log.$(r).text())).length, 1, 'one change, logged once')
})
