import t from 'tap'
import { loadAgentAccess } from '../../../src/data/agents.js'
import { listQueue, noDueCursor } from '../../../src/data/queues.js'
import { insertPlan, setPlanOf } from '../../../src/data/sla.js'
import { testApp, testClock } from '../../helpers/app.js'
import { asAgent, ticketRow } from '../../helpers/actors.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import type { Page } from '../../helpers/visitor.js'

/*
 * What an agent sees of SLA clocks: the Overdue queue, the Due column, sorting by due
 * time, and the two due times on the ticket page. Support runs a plan around the clock
 * (1 h to answer, 4 h to resolve); Billing has none.
 */

const minute = 60_000

/** The rows of a queue page as [number, due cell]. */
function rows (page: Page): Array<[string, string]> {
  return page.$('table.queue-table tbody tr').toArray()
    .filter((tr) => page.$(tr).find('td.number').length > 0)
    .map((tr) => [page.$(tr).find('td.number').text(), page.$(tr).find('td.due').text()])
}

t.test('the Overdue queue, the Due column and sorting by due time', async (t) => {
  const clock = testClock(Date.UTC(2026, 10, 26, 9, 0))
  const app = await testApp(t, {}, { now: clock.now, startWorkers: false })
  const desk = await seedDesk(app)
  const plan = await insertPlan(app.db, { name: 'Around the clock', first_response_hours: 1, resolution_hours: 4, schedule_id: null }, 0)
  await setPlanOf(app.db, 'departments', [desk.departments.support], plan)

  const late = await openTicket(app, desk.topics.broken, 'Printer on fire')
  clock.advance(30 * minute)
  const soon = await openTicket(app, desk.topics.broken, 'Scanner is slow')
  const noPlan = await openTicket(app, desk.topics.billing, 'Invoice question')
  const waiting = await openTicket(app, desk.topics.broken, 'Toner order')
  await app.lifecycle.setPending(await ticketRow(app, waiting.id), await asAgent(app, desk.agents.ada.id))
  clock.advance(50 * minute) // 10:20: the first is 20 min past its first-response target

  const { visitor, page: home } = await signIn(app, desk.agents.ada.email)
  t.match(home.$('#queue-counts a[href="/staff/queues/overdue"]').text(), /Overdue\s+1/, 'the Overdue queue is counted')

  const overdue = await visitor.get('/staff/queues/overdue')
  t.equal(overdue.status, 200)
  t.same(rows(overdue), [[late.number, 'overdue by 20 min']], 'only the ticket past its due time')
  t.equal(overdue.$('select[name=sort] option[selected]').attr('value'), 'due', 'most overdue first until the agent chooses')

  const form = (await visitor.get('/staff/queues/open')).$('form.filters select[name=sort] option[value=due]')
  t.equal(form.text(), 'Due time', 'the sort menu offers due time')
  const open = await visitor.submit(await visitor.get('/staff/queues/open'), 'form.filters', { sort: 'due' })
  t.equal(open.url, '/staff/queues/open?sort=due')
  t.same(rows(open), [[late.number, 'overdue by 20 min'], [soon.number, 'due in 10 min'], [noPlan.number, '—']],
    'soonest due first, tickets without a clock last')
  // Page by page, one row each, the cursor crosses from the due tickets to the others.
  const access = (await loadAgentAccess(app.db, desk.agents.ada.id))!
  const walked: string[] = []
  let after: { value: number, id: number } | undefined
  for (let i = 0; i < 5; i++) {
    const [row] = await listQueue(app.db, access, { queue: 'open', filters: {}, sort: 'due', after, limit: 1, now: clock.now() })
    if (!row) break
    walked.push(row.number)
    after = { value: row.sla_due_at ?? noDueCursor, id: row.id }
  }
  t.same(walked, [late.number, soon.number, noPlan.number], 'keyset pages in the same order')

  const pending = await visitor.get('/staff/queues/pending?sort=due')
  t.same(rows(pending), [[waiting.number, 'paused']], 'a pending ticket\'s clock is paused')

  const ticket = await visitor.get(`/staff/tickets/${late.number}`)
  const facts = ticket.$('#ticket-summary dl.facts')
  t.match(facts.find('dt:contains("First response due") + dd').text(), /20 min ago\s*overdue by 20 min/)
  t.match(facts.find('dt:contains("Resolution due") + dd').text(), /2026-11-26 13:00 UTC\s*due in 2 h/)

  await app.lifecycle.addResponse(await ticketRow(app, late.id), await asAgent(app, desk.agents.ada.id), { body: 'The fire brigade is on its way.' })
  t.same(rows(await visitor.get('/staff/queues/overdue')), [], 'answered, the ticket waits only for its resolution (13:00)')
  const answered = await visitor.get(`/staff/tickets/${late.number}`)
  t.match(answered.$('dt:contains("First response due") + dd').text(), /breached/, 'the late answer is recorded as breached')
  t.match(answered.text, /recorded the first response target as breached/, 'and shown in the history')
})
