import t from 'tap'
import { testApp, testClock } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

const created = (page: Page): { text: string, datetime: string | undefined, title: string | undefined } => {
  const time = page.$('#ticket-summary dt:contains("Created") + dd time')
  return { text: time.text(), datetime: time.attr('datetime'), title: time.attr('title') }
}

t.test('times move with the reader’s zone, across the end of summer time in Berlin, while queues keep the order of the instants', async (t) => {
  // 2026-10-25: Berlin leaves summer time at 01:00 UTC, so 00:30 and 01:30 UTC both read 02:30 there.
  const clock = testClock(Date.UTC(2026, 9, 25, 0, 30))
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const summer = await openTicket(app, desk.topics.broken, 'Before the change')
  clock.advance(60 * 60_000)
  const winter = await openTicket(app, desk.topics.broken, 'After the change')
  clock.advance(24 * 60 * 60_000)

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.same(created(await bob.get(`/staff/tickets/${summer.number}`)), {
    text: '2026-10-25 00:30 UTC', datetime: '2026-10-25T00:30:00.000Z', title: 'Sunday, 25 October 2026 at 00:30 UTC (UTC)'
  }, 'until anyone chooses, the desk’s zone: UTC')

  const saved = await bob.submit(await bob.get('/staff/preferences'), 'form[action="/staff/preferences"]', { timeZone: 'Europe/Berlin' })
  t.match(saved.text, 'Preferences saved.')
  t.same(created(await bob.get(`/staff/tickets/${summer.number}`)), {
    text: '2026-10-25 02:30 CEST', datetime: '2026-10-25T00:30:00.000Z', title: 'Sunday, 25 October 2026 at 02:30 CEST (Europe/Berlin)'
  }, 'before the change: summer time')
  t.same(created(await bob.get(`/staff/tickets/${winter.number}`)), {
    text: '2026-10-25 02:30 CET', datetime: '2026-10-25T01:30:00.000Z', title: 'Sunday, 25 October 2026 at 02:30 CET (Europe/Berlin)'
  }, 'an hour later: the same wall-clock time, in winter time')

  const queue = await bob.get('/staff/queues/open?sort=created')
  t.same(queue.$('.queue-table tbody td.number').map((_, td) => queue.$(td).text()).get(), [winter.number, summer.number], 'the queue sorts by the instant, newest first')
  t.same(queue.$('.queue-table tbody td time').map((_, el) => queue.$(el).text()).get(), ['2026-10-25 02:30 CET', '2026-10-25 02:30 CEST'])

  await bob.submit(await bob.get('/staff/preferences'), 'form[action="/staff/preferences"]', { timeZone: 'America/New_York', dateStyle: 'month-day' })
  t.match(created(await bob.get(`/staff/tickets/${summer.number}`)).text, /^Oct 24, 2026, 8:30\sPM EDT$/, 'another zone and date style')

  // The desk's zone: for clients, and for agents who chose none.
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  await ada.submit(await ada.get('/staff/admin/settings'), 'form[action="/staff/admin/settings"]', { timeZone: 'Europe/Berlin' })
  t.equal(created(await ada.get(`/staff/tickets/${winter.number}`)).text, '2026-10-25 02:30 CET', 'Ada chose no zone: she reads the desk’s')
  t.match(created(await bob.get(`/staff/tickets/${winter.number}`)).text, /^Oct 24, 2026, 9:30\sPM EDT$/, 'Bob keeps his own')
  const client = new Visitor(app)
  const portal = await client.get(`/tickets/${winter.number}/access/${winter.token}`)
  t.equal(portal.$('dt:contains("Opened") + dd time').text(), '2026-10-25 02:30 CET', 'the client reads the desk’s zone')
})

t.test('recent times read relatively, with the exact time in the title', async (t) => {
  const clock = testClock(Date.UTC(2026, 10, 26, 9, 0))
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const page = async (): Promise<Page> => await bob.get(`/staff/tickets/${ticket.number}`)
  t.equal(created(await page()).text, 'just now')
  clock.advance(20 * 60_000)
  t.same(created(await page()), { text: '20 min ago', datetime: '2026-11-26T09:00:00.000Z', title: 'Thursday, 26 November 2026 at 09:00 UTC (UTC)' })
  clock.advance(3 * 60 * 60_000)
  t.equal(created(await page()).text, '3 h ago')
  clock.advance(9 * 60 * 60_000)
  t.equal(created(await page()).text, '2026-11-26 09:00 UTC', 'after 12 hours, the time itself')
  const queue = await bob.get('/staff/queues/open')
  t.equal(queue.$('.queue-table tbody td').last().text(), '12 h', 'the queue’s age column counts on the app’s clock')
})

t.test('the desk’s time zone is refused unless it is one of the list', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  for (const timeZone of ['Mars/Olympus_Mons', '', 'constructor', 'x'.repeat(65)]) {
    const page = await ada.submit(await ada.get('/staff/admin/settings'), 'form[action="/staff/admin/settings"]', { name: 'Kept name', timeZone })
    t.equal(page.status, 422, `${timeZone.slice(0, 20) || 'empty'} is refused`)
    t.match(page.$('#settings-timeZone-error').text(), /time zone from the list|64 characters/)
    t.equal(page.$('#settings-name').attr('value'), 'Kept name', 'the text is kept')
  }
  t.notOk(await app.db('settings').where({ key: 'desk.time_zone' }).first(), 'nothing was saved')
})
