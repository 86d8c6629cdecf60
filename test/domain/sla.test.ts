import t from 'tap'
import { listOutbox } from '../../src/data/outbox.js'
import { findTicketSla, insertPlan, insertSchedule, setPlanOf, updateSchedule } from '../../src/data/sla.js'
import { listEvents } from '../../src/data/tickets.js'
import { slaPass } from '../../src/domain/sla.js'
import { testApp } from '../helpers/app.js'
import { asAgent, asRequester, ticketRow } from '../helpers/actors.js'
import { openTicket, seedDesk } from '../helpers/fixtures.js'

const hour = 3600_000
const day = 24 * hour
const weekdays = { 1: [[540, 1020]], 2: [[540, 1020]], 3: [[540, 1020]], 4: [[540, 1020]], 5: [[540, 1020]] }

/** The test's clock, set to each story's start; the app reads it through `now`. */
const clock = {
  current: 0,
  now: (): number => clock.current,
  set: (ms: number): void => { clock.current = ms },
  advance: (ms: number): void => { clock.current += ms }
}

/*
 * One desk for the whole file (each story opens its own tickets): on MySQL an app's
 * migrations take seconds. Support counts in office hours (Mon–Fri 9–17 UTC, Christmas
 * off; 2 h to answer, 8 h to resolve); "Around the clock" is 1 h / 4 h; Billing has none.
 */
const app = await testApp(t, {}, { now: clock.now, startWorkers: false })
const desk = await seedDesk(app)
const schedule = await insertSchedule(app.db, { name: 'Office', time_zone: 'UTC', windows: JSON.stringify(weekdays), holidays: JSON.stringify([{ date: '2026-12-25', name: 'Christmas' }]) }, 0)
const plans = {
  office: await insertPlan(app.db, { name: 'Office hours', first_response_hours: 2, resolution_hours: 8, schedule_id: schedule }, 0),
  always: await insertPlan(app.db, { name: 'Around the clock', first_response_hours: 1, resolution_hours: 4, schedule_id: null }, 0)
}
await setPlanOf(app.db, 'departments', [desk.departments.support], plans.office)

/** A story starting at `start`, with the printer topic on `topicPlan` (null: the department's). */
async function story (start: number, topicPlan: number | null = null): Promise<void> {
  clock.set(start)
  // Earlier stories' tickets are done with: the pass looks at open tickets only.
  await app.db('tickets').update({ status: 'closed' })
  await app.db('help_topics').update({ sla_plan_id: null })
  if (topicPlan !== null) await setPlanOf(app.db, 'help_topics', [desk.topics.broken], topicPlan)
}

const changes = async (id: number): Promise<string[]> =>
  (await listEvents(app.db, id)).filter((e) => e.type === 'sla').map((e) => {
    const after = JSON.parse(e.after_state ?? '{}') as { change: string, target?: string }
    return after.target ? `${after.change} ${after.target}` : after.change
  })

t.test('a ticket opened on Friday afternoon is due on Monday, in business hours of its department\'s plan', async (t) => {
  await story(Date.UTC(2026, 10, 27, 16, 0))
  const { id } = await openTicket(app, desk.topics.broken)
  const sla = (await findTicketSla(app.db, id))!
  t.equal(sla.sla_plan_id, plans.office)
  t.equal(sla.first_response_due_at, Date.UTC(2026, 10, 30, 10, 0), 'Friday 16:00 + 2 business hours = Monday 10:00')
  t.equal(sla.resolution_due_at, Date.UTC(2026, 10, 30, 16, 0), '1 h on Friday and 7 on Monday: 8 business hours = Monday 16:00')
  t.equal(sla.sla_due_at, sla.first_response_due_at, 'the queue sorts on the next due time')

  clock.advance(2 * day + 17.5 * hour) // Monday 9:30
  await app.lifecycle.addResponse(await ticketRow(app, id), await asAgent(app, desk.agents.bob.id), { body: 'On it.' })
  const answered = (await findTicketSla(app.db, id))!
  t.equal(answered.first_response_outcome, 'met', 'met at the moment of the first reply')
  t.equal(answered.sla_due_at, answered.resolution_due_at, 'only the resolution is still due')
  t.same(await changes(id), ['started', 'met first_response'])

  clock.advance(hour)
  await app.lifecycle.addResponse(await ticketRow(app, id), await asAgent(app, desk.agents.bob.id), { body: 'Again.' })
  t.same(await changes(id), ['started', 'met first_response'], 'a second reply changes nothing')
})

t.test('a help topic\'s plan wins over the department\'s, and the ticket keeps the plan it started with', async (t) => {
  await story(Date.UTC(2026, 10, 27, 16, 0))
  await setPlanOf(app.db, 'help_topics', [desk.topics.broken], plans.always)
  const { id } = await openTicket(app, desk.topics.broken)
  await setPlanOf(app.db, 'help_topics', [desk.topics.broken], plans.office)
  t.equal((await findTicketSla(app.db, id))!.sla_plan_id, plans.always)
  const billing = await openTicket(app, desk.topics.billing)
  t.equal((await findTicketSla(app.db, billing.id))!.sla_plan_id, null, 'no plan, no clock')
  t.same(await changes(billing.id), [])
})

t.test('a holiday adds no business time', async (t) => {
  await story(Date.UTC(2026, 11, 24, 16, 0)) // Thursday before Christmas
  const { id } = await openTicket(app, desk.topics.broken)
  t.equal((await findTicketSla(app.db, id))!.first_response_due_at, Date.UTC(2026, 11, 28, 10, 0), 'Friday 25th is skipped, then the weekend')
})

t.test('a holiday added to the schedule counts for the tickets opened after it', async (t) => {
  await story(Date.UTC(2026, 11, 30, 16, 0)) // Wednesday
  const before = await openTicket(app, desk.topics.broken)
  t.equal((await findTicketSla(app.db, before.id))!.first_response_due_at, Date.UTC(2026, 11, 31, 10, 0), 'due on Thursday')
  await updateSchedule(app.db, schedule, { holidays: JSON.stringify([{ date: '2026-12-25', name: 'Christmas' }, { date: '2026-12-31', name: 'New Year\'s Eve' }]) })
  const after = await openTicket(app, desk.topics.broken)
  t.equal((await findTicketSla(app.db, after.id))!.first_response_due_at, Date.UTC(2027, 0, 1, 10, 0), 'Thursday is a holiday now: due on Friday')
  t.equal((await findTicketSla(app.db, before.id))!.first_response_due_at, Date.UTC(2026, 11, 31, 10, 0), 'the ticket opened before keeps its due time')
})

t.test('three days pending pause the clocks; back to open the due times move by the pause', async (t) => {
  await story(Date.UTC(2026, 10, 26, 9, 0), plans.always)
  const { id } = await openTicket(app, desk.topics.broken)
  const bob = await asAgent(app, desk.agents.bob.id)
  clock.advance(30 * 60_000)
  await app.lifecycle.addResponse(await ticketRow(app, id), bob, { body: 'Which printer?' })
  clock.advance(30 * 60_000)
  await app.lifecycle.setPending(await ticketRow(app, id), bob)
  const paused = (await findTicketSla(app.db, id))!
  t.equal(paused.sla_paused_at, clock.now())

  clock.advance(3 * day)
  t.equal(await slaPass(app.db, clock.now()), 0, 'a paused clock is never breached')
  const ticket = await ticketRow(app, id)
  await app.lifecycle.addClientReply(ticket, asRequester(ticket), { body: 'The one on floor 2.' })
  const resumed = (await findTicketSla(app.db, id))!
  t.equal(resumed.sla_paused_at, null)
  t.equal(resumed.resolution_due_at, paused.resolution_due_at! + 3 * day, 'the resolution is due 3 days later')
  t.equal(resumed.first_response_due_at, paused.first_response_due_at, 'a met first response stays as it was')
  t.equal(resumed.resolution_outcome, null)

  clock.advance(2 * hour)
  await app.lifecycle.resolveTicket(await ticketRow(app, id), bob)
  t.equal((await findTicketSla(app.db, id))!.resolution_outcome, 'met', '3 h of work in 4: met despite 3 days waiting')
  t.same(await changes(id), ['started', 'met first_response', 'paused', 'resumed', 'met resolution'])
})

t.test('a reopen after resolution restarts the resolution clock, not the first response', async (t) => {
  await story(Date.UTC(2026, 10, 26, 9, 0), plans.always)
  const { id } = await openTicket(app, desk.topics.broken)
  const bob = await asAgent(app, desk.agents.bob.id)
  clock.advance(2 * hour)
  await app.lifecycle.addResponse(await ticketRow(app, id), bob, { body: 'Late, sorry.' })
  clock.advance(hour)
  await app.lifecycle.resolveTicket(await ticketRow(app, id), bob)
  const resolved = (await findTicketSla(app.db, id))!
  t.equal(resolved.first_response_outcome, 'breached', 'answered after 2 h of 1')
  t.equal(resolved.resolution_outcome, 'met')

  clock.advance(day)
  const ticket = await ticketRow(app, id)
  await app.lifecycle.addClientReply(ticket, asRequester(ticket), { body: 'It jams again.' })
  const reopened = (await findTicketSla(app.db, id))!
  t.equal(reopened.resolution_due_at, clock.now() + 4 * hour, 'a fresh 4 h from the reopen')
  t.equal(reopened.resolution_outcome, null)
  t.equal(reopened.first_response_outcome, 'breached', 'the first response keeps its outcome')
  t.equal(reopened.first_response_due_at, resolved.first_response_due_at)
  t.same((await changes(id)).slice(-1), ['restarted resolution'])
})

t.test('the pass warns at 80 % and breaches at 100 %, once each, even run twice or from two instances at once', async (t) => {
  await story(Date.UTC(2026, 10, 26, 9, 0))
  await setPlanOf(app.db, 'departments', [desk.departments.billing], plans.always)
  const assigned = await openTicket(app, desk.topics.broken, 'Assigned to Bob')
  await app.lifecycle.assignTicket(await ticketRow(app, assigned.id), await asAgent(app, desk.agents.ada.id), { agentId: desk.agents.bob.id, teamId: null })
  const unassigned = await openTicket(app, desk.topics.billing, 'Nobody has it')
  const slaMail = async (to: string): Promise<string[]> =>
    (await listOutbox(app.db, { toAddress: to })).filter((m) => m.template.startsWith('sla_')).map((m) => m.template)

  clock.advance(95 * 60_000) // Thursday 10:35: 80 % of Support's 2 h is 10:36; Billing's 1 h is gone
  t.equal(await slaPass(app.db, clock.now()), 1)
  t.same(await slaMail(desk.agents.mel.email), ['sla_breach'], 'Billing\'s manager hears of the breach of an unassigned ticket (past due at once: no warning first)')
  t.same(await slaMail(desk.agents.bob.email), [], 'not yet 80 % on Bob\'s ticket')

  clock.advance(60_000)
  const passes = await Promise.all([slaPass(app.db, clock.now()), slaPass(app.db, clock.now())])
  t.equal(passes[0] + passes[1], 1, 'two passes at once: one wins')
  t.same(await slaMail(desk.agents.bob.email), ['sla_warning'], 'the assignee is warned once')
  t.equal(await slaPass(app.db, clock.now()), 0, 'run again, nothing more')

  clock.advance(4 * hour) // 14:36: Support's first response (due 11:00) is overdue; 80 % of its resolution (due 17:00) comes at 15:24
  await slaPass(app.db, clock.now())
  await slaPass(app.db, clock.now())
  t.same(await slaMail(desk.agents.bob.email), ['sla_warning', 'sla_breach'], 'the first response is breached once')
  t.same(await slaMail(desk.agents.mel.email), ['sla_breach', 'sla_breach'], 'Billing\'s resolution (13:00) too')

  clock.advance(hour) // 15:36: past 80 % of the resolution
  await slaPass(app.db, clock.now())
  clock.advance(2 * hour) // 17:36: past due
  await slaPass(app.db, clock.now())
  await slaPass(app.db, clock.now())
  t.same(await slaMail(desk.agents.bob.email), ['sla_warning', 'sla_breach', 'sla_warning', 'sla_breach'], 'each target warned and breached once')
  t.equal((await findTicketSla(app.db, assigned.id))!.resolution_outcome, 'breached', 'breached when the pass saw it go by')
  t.same(await changes(assigned.id), ['started', 'warned first_response', 'breached first_response', 'warned resolution', 'breached resolution'])
  t.equal(await slaPass(app.db, clock.now()), 0)
  t.equal((await findTicketSla(app.db, unassigned.id))!.sla_check_at, null, 'nothing left to look at')
})
