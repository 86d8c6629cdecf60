import t from 'tap'
import type { Page } from 'playwright-core'
import { launchBrowser, openPage, servedApp } from '../helpers/browser.js'
import { openTicket, password, seedDesk } from '../helpers/fixtures.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

/**
 * The focused element once htmx has settled: it moves focus after the swap, not with it, and
 * until then the button that asked keeps it. A step that asked nothing finds none of htmx's
 * classes at once.
 */
const focused = async (page: Page): Promise<string> => {
  await page.waitForFunction(() => document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling') === null &&
    document.activeElement !== null && document.activeElement !== document.body, undefined, { timeout: 10_000 }).catch(() => undefined)
  return await describeFocus(page)
}

const describeFocus = async (page: Page): Promise<string> => await page.evaluate(() => {
  const el = document.activeElement
  return el ? `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).split(' ').join('.') : ''}` : 'none'
})

t.test('keyboard paths in the staff panel: where focus is after each step', { skip }, async (t) => {
  const { app, origin } = await servedApp(t)
  const desk = await seedDesk(app)
  const first = await openTicket(app, desk.topics.broken, 'Printer jams')
  await openTicket(app, desk.topics.broken, 'Scanner is slow')
  const browser = await launchBrowser(t)
  const { page, scriptErrors } = await openPage(t, browser, origin, { viewport: { width: 1000, height: 700 } })
  await page.goto('/staff/login')
  await page.getByLabel('E-mail address').fill(desk.agents.bob.email)
  await page.getByLabel('Password').fill(password)
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
  await page.waitForFunction(() => (window as unknown as { htmx?: unknown }).htmx !== undefined)

  // Filter: choosing with arrow keys asks nothing; Apply shows the results and says how many.
  await page.locator('#filter-department').selectOption({ label: 'Support' })
  await page.getByRole('button', { name: 'Apply', exact: true }).press('Enter')
  await page.locator('#queue-count').filter({ hasText: 'tickets shown' }).waitFor()
  t.equal(await page.locator('#queue-count').textContent(), '2 tickets shown', 'the live region announces the count')
  t.equal(await focused(page), 'table.queue-table', 'focus is on the new results')

  // Select a row, skip to the bulk actions, claim.
  await page.getByRole('checkbox', { name: `Select ticket ${first.number}` }).press('Space')
  await page.getByRole('link', { name: 'Skip to the actions for selected tickets' }).press('Enter')
  t.equal(await focused(page), 'fieldset#bulk-actions.bulk-actions', 'the skip link lands on the bulk actions')
  t.equal(await page.locator('#bulk-agent').isVisible(), false, 'Claim needs no agent menu, so none is shown')
  await page.locator('#bulk-action').selectOption('assign')
  t.equal(await page.locator('#bulk-agent').isVisible(), true, 'Assign shows the agent menu')
  await page.locator('#bulk-action').selectOption('claim')
  await page.getByRole('button', { name: 'Apply to selected' }).press('Enter')
  await page.getByRole('status').filter({ hasText: '1 of 1 tickets updated.' }).waitFor()

  // An empty reply: focus on the problem, in view, and the title says so.
  await page.goto(`/staff/tickets/${first.number}`)
  await page.waitForFunction(() => (window as unknown as { htmx?: unknown }).htmx !== undefined)
  await page.getByRole('button', { name: 'Send reply' }).press('Enter')
  await page.locator('.error-summary').waitFor()
  t.equal(await focused(page), 'div#composer-summary.error-summary', 'focus is on the error summary')
  t.ok(await page.locator('.error-summary').evaluate((el) => { const box = el.getBoundingClientRect(); return box.top >= 0 && box.top < window.innerHeight }), 'which is in view')
  t.match(await page.title(), /^Error: /, 'the title starts with "Error: "')

  // A note, then an assignment: focus follows what changed.
  await page.locator('#composer-message').fill('Checked the fuser.')
  await page.getByRole('button', { name: 'Add internal note' }).press('Enter')
  await page.locator('#ticket-status').filter({ hasText: 'Note added.' }).waitFor()
  await focused(page)
  t.match(await page.evaluate(() => document.activeElement?.textContent ?? ''), 'Checked the fuser.', 'focus is on the new note')
  t.notMatch(await page.title(), /^Error: /, 'the title is plain again')
  await page.locator('#assign-team').selectOption({ label: 'Printers' })
  await page.getByRole('button', { name: 'Assign', exact: true }).press('Enter')
  await page.locator('#ticket-status').filter({ hasText: 'Assignment saved.' }).waitFor()
  t.equal(await focused(page), 'h2#summary-title', 'focus is on the updated details')
  t.same(scriptErrors, [], 'no script errors')
})
