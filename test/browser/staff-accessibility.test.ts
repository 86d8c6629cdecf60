import t, { type Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import { checkAccessibility, seriousViolations } from '../helpers/axe.js'
import { launchBrowser, openPage, servedApp } from '../helpers/browser.js'
import { openTicket, password, seedDesk } from '../helpers/fixtures.js'
import { programs, skipWithout } from '../helpers/programs.js'
import { asAgent, ticketRow } from '../helpers/actors.js'

const skip = skipWithout(programs.chromium)

/** A signed-in agent's page; the CSP (script-src 'self') would block the injected axe script, so it is bypassed for the audit only. */
async function signedIn (t: Test, browser: Browser, origin: string, email: string): Promise<Page> {
  const { page } = await openPage(t, browser, origin, { bypassCSP: true })
  await page.goto('/staff/login')
  await page.getByLabel('E-mail address').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
  return page
}

t.test('staff pages have no serious or critical accessibility violations (axe-core)', { skip }, async (t) => {
  const { app, origin } = await servedApp(t)
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  const adaActor = await asAgent(app, desk.agents.ada.id)
  await app.lifecycle.addResponse(await ticketRow(app, ticket.id), adaActor, { body: 'Please try the rear paper tray.' })
  await app.lifecycle.addNote(await ticketRow(app, ticket.id), adaActor, { body: 'The fuser was replaced last month.' })
  await app.lifecycle.assignTicket(await ticketRow(app, ticket.id), adaActor, { agentId: desk.agents.bob.id, teamId: desk.teams.printers })
  const browser = await launchBrowser(t)
  const { page } = await openPage(t, browser, origin, { bypassCSP: true })

  // The audit itself works: a field without a label on a real staff page is caught.
  await page.goto('/staff/login')
  await page.evaluate(() => { document.querySelector('main')!.append(document.createElement('input')) })
  t.same((await seriousViolations(page)).map((v) => v.id), ['label'], 'axe reports a planted unlabelled field')

  let response = await page.goto('/staff/login')
  await page.getByRole('heading', { level: 1, name: 'Staff sign in' }).waitFor()
  await checkAccessibility(t, page, 'staff sign-in page', 200, response?.status())

  await page.getByLabel('E-mail address').fill(desk.agents.bob.email)
  await page.getByLabel('Password').fill('not the password')
  const refused = page.waitForResponse((res) => res.request().method() === 'POST' && new URL(res.url()).pathname === '/staff/login')
  await page.getByRole('button', { name: 'Sign in' }).click()
  const refusedStatus = (await refused).status()
  await page.locator('.error-summary').filter({ hasText: 'That e-mail address and password do not match.' }).waitFor()
  await checkAccessibility(t, page, 'staff sign-in page with an error', 422, refusedStatus)

  const emptyRefused = page.waitForResponse((res) => res.request().method() === 'POST' && new URL(res.url()).pathname === '/staff/login')
  await page.getByLabel('E-mail address').fill('')
  await page.getByRole('button', { name: 'Sign in' }).click()
  const emptyStatus = (await emptyRefused).status()
  await page.locator('#login-email-error').waitFor()
  await checkAccessibility(t, page, 'staff sign-in page with field errors', 422, emptyStatus)

  response = await page.goto('/staff/password-reset')
  await page.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor()
  await checkAccessibility(t, page, 'password-reset request page', 200, response?.status())

  const bob = await signedIn(t, browser, origin, desk.agents.bob.email)
  response = await bob.goto('/staff/queues/open')
  t.ok(await bob.locator('#queue-results tbody tr').filter({ hasText: 'Printer jams on page two' }).count(), 'the queue lists the ticket')
  await checkAccessibility(t, bob, 'queue page', 200, response?.status())

  response = await bob.goto(`/staff/tickets/${ticket.number}`)
  await bob.locator('.thread .entry.note').waitFor()
  await checkAccessibility(t, bob, 'ticket page', 200, response?.status())

  const ada = await signedIn(t, browser, origin, desk.agents.ada.email)
  response = await ada.goto('/staff/admin/outbox')
  await ada.getByRole('heading', { level: 1, name: 'Outbox' }).waitFor()
  t.ok(await ada.locator('tbody tr').filter({ hasText: 'grace@example.com' }).count(), 'the outbox lists messages')
  await checkAccessibility(t, ada, 'admin outbox page', 200, response?.status())
})
