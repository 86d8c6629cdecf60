import t from 'tap'
import { findTicketSla } from '../../../src/data/sla.js'
import { testApp, testClock } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'

/*
 * An administrator sets up business hours and a plan, gives it to a department, and the
 * next ticket there is due in those hours; bad input comes back beside its field, kept.
 */

const errorOf = (page: { $: (selector: string) => { text: () => string } }, id: string): string => page.$(`#${id}-error`).text()

t.test('schedules and plans from the admin pages, chosen by a department, logged, and used by new tickets', async (t) => {
  const clock = testClock(Date.UTC(2026, 10, 27, 15, 0)) // Friday 16:00 in Berlin
  const app = await testApp(t, {}, { now: clock.now, startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  let page = await ada.get('/staff/admin/sla/schedules')
  t.equal(page.status, 200)
  const form = 'form[action="/staff/admin/sla/schedules"]'
  page = await ada.submit(page, form, { name: 'Berlin office', timeZone: 'Mars/Olympus', tuesday: '9 to 5', holidays: '2026-12-25 Christmas\n2026-13-01 Nonsense' })
  t.equal(page.status, 422, 'bad input is refused')
  t.match(errorOf(page, 'schedule-timeZone'), /not a time zone/)
  t.equal(page.$('#schedule-tuesday').attr('value'), '9 to 5', 'what was typed is kept')

  page = await ada.submit(page, form, { timeZone: 'Europe/Berlin', tuesday: '09:00-12:00, 13:00-17:00' })
  t.equal(page.status, 422)
  t.match(errorOf(page, 'schedule-holidays'), /2026-13-01 Nonsense.* is not a date/)
  t.equal(errorOf(page, 'schedule-timeZone'), '', 'the fixed field is fine now')

  page = await ada.submit(page, form, { holidays: '2026-12-25 Christmas' })
  t.equal(page.status, 200)
  t.match(page.url, /^\/staff\/admin\/sla\/schedules\/[0-9]+$/)
  t.match(page.text, 'Schedule Berlin office created.')
  t.equal(page.$('#schedule-tuesday').attr('value'), '09:00-12:00, 13:00-17:00', 'the hours read back as typed')
  t.equal(page.$('#schedule-holidays').text(), '2026-12-25 Christmas')

  page = await ada.get('/staff/admin/sla')
  const planForm = 'form[action="/staff/admin/sla"]'
  const office = page.$('#plan-schedule option').filter((_, el) => page.$(el).text() === 'Berlin office').attr('value')!
  page = await ada.submit(page, planForm, { name: 'Office hours', firstResponse: 'soon', resolution: '8', schedule: office })
  t.equal(page.status, 422)
  t.match(errorOf(page, 'plan-firstResponse'), /whole number of hours/)
  page = await ada.submit(page, planForm, { firstResponse: '2' })
  t.match(page.url, /^\/staff\/admin\/sla\/plans\/[0-9]+$/)
  t.match(page.text, 'SLA plan Office hours created.')
  const planId = Number(page.url.split('/').at(-1))

  page = await ada.get('/staff/admin/sla')
  page = await ada.submit(page, 'form[action="/staff/admin/sla/choices"]', { target: `department:${desk.departments.support}`, plan: String(planId) })
  t.equal(page.url, '/staff/admin/sla')
  t.match(page.text, 'Plan chosen')
  t.match(page.$('table').eq(1).text(), /Department Support\s*Office hours/)

  const log = await app.db('admin_events').whereIn('subject_type', ['sla_schedule', 'sla_plan', 'department']).orderBy('id').select('subject_type', 'action')
  t.same(log, [
    { subject_type: 'sla_schedule', action: 'created' },
    { subject_type: 'sla_plan', action: 'created' },
    { subject_type: 'department', action: 'sla_plan_chosen' }
  ], 'every change is in the admin log')

  const { id, number } = await openTicket(app, desk.topics.broken)
  const sla = (await findTicketSla(app.db, id))!
  t.equal(sla.sla_plan_id, planId)
  t.equal(sla.first_response_due_at, Date.UTC(2026, 10, 30, 9, 0), 'Friday 16:00 + 2 h in Berlin hours: Monday 10:00 Berlin')
  const ticket = await ada.get(`/staff/tickets/${number}`)
  t.match(ticket.$('dt:contains("First response due") + dd').text(), /2026-11-30 09:00 UTC/)

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get('/staff/admin/sla')).status, 404, 'only administrators: not found for anyone else')
})
