import type { FastifyInstance } from 'fastify'
import { insertPlan, insertSchedule, setPlanOf } from '../../src/data/sla.js'
import { asAgent, asRequester, ticketRow } from './actors.js'
import { openTicket, type Desk } from './fixtures.js'

const weekdays = { 1: [[540, 1020]], 2: [[540, 1020]], 3: [[540, 1020]], 4: [[540, 1020]], 5: [[540, 1020]] }

/** The test's clock; the app reads it through `now`. */
export const clock = {
  current: Date.UTC(2026, 10, 26, 9, 0),
  now: (): number => clock.current,
  at: (iso: string): void => { clock.current = Date.parse(iso) }
}

/**
 * A small desk, worked over five UTC days (Thursday 26 to Monday 30 November 2026).
 * Support answers around the clock (1 h to answer, 24 h to resolve); Billing in office hours,
 * Monday to Friday 9–17 UTC (10 h to answer, 40 h to resolve).
 *
 * Thu 26  09:00 T1 and T2 open in Support. 09:20 Bob claims T1, 09:30 answers it (30 min,
 *               met). 10:30 Bob answers T2, unassigned (90 min, breached). 11:00 Bob resolves
 *               T1 (2 h, met).
 * Fri 27  09:00 T3 opens in Billing. 09:00 Grace writes on T1 again: reopened. 12:00 Bob
 *               closes T1 (27 h since it opened; the restarted target is met). 13:00 Grace
 *               rates it Great.
 * Sat 28  09:00 Bob resolves T2 (48 h, breached). 10:00 T4 opens in Support; Ada deletes it.
 * Mon 30  10:00 Ned answers T3: 9 business hours after it opened (Fri 9–17 and Mon 9–10), met.
 *
 * By hand, per day (26, 27, 28, 29, 30), for the whole desk:
 *   created 2 1 1 0 0; resolved 1 1 1 0 0; reopened 0 1 0 0 0; open at the end 1 2 1 1 1.
 *   First replies: 26: 30 and 90 min, 30: 540 min. Estimates read the middle of each
 *   value's bucket: 30 → [30, 40) 35 min; 90 → [90, 120) 1 h 45 min; 540 → [480, 600) 9 h.
 *   Resolutions: 26: 120 → [120, 150) 2 h 15 min; 27: 1620 → [1440, 1920) 28 h;
 *   28: 2880 → [2880, 3600) 3240 = 2 d 6 h.
 */
export async function workTheDesk (app: FastifyInstance, desk: Desk): Promise<void> {
  const office = await insertSchedule(app.db, { name: 'Office', time_zone: 'UTC', windows: JSON.stringify(weekdays), holidays: '[]' }, 0)
  await setPlanOf(app.db, 'departments', [desk.departments.support], await insertPlan(app.db, { name: 'Around the clock', first_response_hours: 1, resolution_hours: 24, schedule_id: null }, 0))
  await setPlanOf(app.db, 'departments', [desk.departments.billing], await insertPlan(app.db, { name: 'Office hours', first_response_hours: 10, resolution_hours: 40, schedule_id: office }, 0))
  const bob = await asAgent(app, desk.agents.bob.id)
  const ada = await asAgent(app, desk.agents.ada.id)
  const ned = await asAgent(app, desk.agents.ned.id)
  const { lifecycle } = app

  clock.at('2026-11-26T09:00Z')
  const t1 = await openTicket(app, desk.topics.broken)
  const t2 = await openTicket(app, desk.topics.broken, 'Scanner is offline')
  clock.at('2026-11-26T09:20Z')
  await lifecycle.claimTicket(await ticketRow(app, t1.id), bob)
  clock.at('2026-11-26T09:30Z')
  await lifecycle.addResponse(await ticketRow(app, t1.id), bob, { body: 'Try the rear tray.' })
  clock.at('2026-11-26T10:30Z')
  await lifecycle.addResponse(await ticketRow(app, t2.id), bob, { body: 'Is it switched on?' })
  clock.at('2026-11-26T11:00Z')
  await lifecycle.resolveTicket(await ticketRow(app, t1.id), bob)

  clock.at('2026-11-27T09:00Z')
  const t3 = await openTicket(app, desk.topics.billing, 'Invoice without VAT number')
  const resolved = await ticketRow(app, t1.id)
  await lifecycle.addClientReply(resolved, asRequester(resolved), { body: 'It jams again.' })
  clock.at('2026-11-27T12:00Z')
  await lifecycle.closeTicket(await ticketRow(app, t1.id), bob)
  clock.at('2026-11-27T13:00Z')
  const survey = await app.surveys.findForTicket(t1.id)
  if (!survey) throw new Error('closing T1 asked for no rating')
  await app.surveys.rate(survey, await ticketRow(app, t1.id), { rating: 'great', comment: '' })

  clock.at('2026-11-28T09:00Z')
  await lifecycle.resolveTicket(await ticketRow(app, t2.id), bob)
  clock.at('2026-11-28T10:00Z')
  const t4 = await openTicket(app, desk.topics.broken, 'Opened by mistake')
  await lifecycle.deleteTicket(await ticketRow(app, t4.id), ada)

  clock.at('2026-11-30T10:00Z')
  await lifecycle.addResponse(await ticketRow(app, t3.id), ned, { body: 'We will send it again.' })
  clock.at('2026-12-01T08:00Z')
}
