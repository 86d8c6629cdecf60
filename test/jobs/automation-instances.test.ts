import t from 'tap'
import { sharedApps, testClock } from '../helpers/app.js'
import { count, day, pendingTicket, resolvedTicket, saveAutomation } from '../helpers/automation.js'
import { seedDesk } from '../helpers/fixtures.js'

// Several app instances, sign-ins and many tickets: minutes on a busy shared machine.
t.setTimeout(600_000)

t.test('two instances running the jobs at once never close or remind twice', async (t) => {
  const clock = testClock()
  const [a, b] = await sharedApps(t, 2, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(a!)
  await saveAutomation(a!, desk, { reminderDays: '2', autoResolveDays: '0' })
  const resolved: number[] = []
  const pending: number[] = []
  for (let i = 0; i < 15; i++) {
    resolved.push(await resolvedTicket(a!, desk))
    pending.push(await pendingTicket(a!, desk))
  }
  clock.advance(8 * day)
  // The other instance reads the settings anew rather than from its few seconds' cache.
  b!.deskSettings.forget()
  const [first, second] = await Promise.all([a!.scheduler.runOnce(), b!.scheduler.runOnce()])
  t.equal(first.auto_close! + second.auto_close!, 15, 'fifteen closings between them')
  t.equal(first.pending_reminder! + second.pending_reminder!, 15, 'fifteen reminders between them')
  t.equal(await count(a!, 'outbox', { template: 'ticket_closed' }), 15, 'one closed notice per ticket')
  t.equal(await count(a!, 'outbox', { template: 'pending_reminder' }), 15, 'one reminder per ticket')
  t.equal(await count(a!, 'events', { type: 'client_reminded' }), 15)
  t.equal(Number((await a!.db('events').where({ type: 'status_changed', actor_kind: 'system' }).count({ n: '*' }).first() as { n: number }).n), 15, 'one closing event per ticket')
  t.equal(await count(a!, 'job_leases', {}), 0, 'every lease was given back')
})
