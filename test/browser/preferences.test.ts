import t from 'tap'
import { launchBrowser, openPage, servedApp } from '../helpers/browser.js'
import { testClock } from '../helpers/app.js'
import { openTicket, password, seedDesk } from '../helpers/fixtures.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

t.test('an agent changes their time zone in Chromium with JavaScript off and sees the times move', { skip }, async (t) => {
  // Opened just after Berlin left summer time.
  const clock = testClock(Date.UTC(2026, 9, 25, 1, 30))
  const { app, origin } = await servedApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  clock.advance(24 * 60 * 60_000)

  const browser = await launchBrowser(t)
  const { page, scriptErrors } = await openPage(t, browser, origin, { javaScriptEnabled: false })
  await page.goto('/staff/login')
  await page.getByLabel('E-mail address').fill(desk.agents.bob.email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()

  const created = page.locator('#ticket-summary dt:has-text("Created") + dd time')
  await page.goto(`/staff/tickets/${ticket.number}`)
  t.equal(await created.innerText(), '2026-10-25 01:30 UTC', 'the desk’s zone to begin with')

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Preferences' }).click()
  await page.getByLabel('Time zone').selectOption('Europe/Berlin')
  await page.getByLabel('Date style').selectOption({ label: '30 Nov 2026, 14:50' })
  await page.getByRole('button', { name: 'Save preferences' }).click()
  await page.getByText('Preferences saved.').waitFor()

  await page.goto(`/staff/tickets/${ticket.number}`)
  t.equal(await created.innerText(), '25 Oct 2026, 02:30 CET', 'now in Berlin, in his date style')
  t.equal(await created.getAttribute('title'), 'Sunday, 25 October 2026 at 02:30 CET (Europe/Berlin)', 'the exact time, named, in the title')
  t.equal(await created.getAttribute('datetime'), '2026-10-25T01:30:00.000Z', 'the instant itself is unchanged')
  t.same(scriptErrors, [])
})
