import t from 'tap'
import { listOutbox } from '../../src/data/outbox.js'
import { checkAccessibility } from '../helpers/axe.js'
import { launchBrowser, openPage, servedApp } from '../helpers/browser.js'
import { openTicket, password, seedDesk } from '../helpers/fixtures.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

declare global {
  interface Window {
    __marker?: number
  }
}

for (const javaScriptEnabled of [false, true]) {
  t.test(`an administrator names the desk, writes a canned response and turns a notice off in Chromium, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, { skip }, async (t) => {
    const { app, origin } = await servedApp(t, {}, { startWorkers: false })
    const desk = await seedDesk(app)
    const browser = await launchBrowser(t)
    const { page, scriptErrors, cspViolations } = await openPage(t, browser, origin, { javaScriptEnabled })
    await page.goto('/staff/login')
    await page.getByLabel('E-mail address').fill(desk.agents.ada.email)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()

    // Rename the desk; the portal home shows it at once.
    await page.getByRole('link', { name: 'Admin' }).click()
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Settings' }).click()
    await page.getByLabel('Desk name').fill('Acme Support')
    await page.getByLabel('Portal introduction').fill('We answer within one working day.')
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.getByText('Settings saved.').waitFor()
    const client = await openPage(t, browser, origin, { javaScriptEnabled })
    await client.page.goto('/')
    t.equal(await client.page.title(), 'Help · Acme Support', 'the portal home carries the new name')
    t.equal(await client.page.locator('.intro').innerText(), 'We answer within one working day.', 'and the intro')

    // A canned response with placeholders, inserted on a ticket.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Canned responses' }).click()
    await page.getByLabel('Title').fill('Greeting')
    await page.getByLabel('Text').fill('Hello {requester.name}, this is {agent.name} about ticket {ticket.number}.')
    await page.getByRole('button', { name: 'Create' }).click()
    await page.getByText('Canned response created.').waitFor()
    t.match(await page.locator('tr:has-text("Greeting") pre').innerText(), 'Hello Grace Hopper, this is Ada Lovelace about ticket 482913.', 'previewed with sample values')

    const ticket = await openTicket(app, desk.topics.broken)
    await page.goto(`/staff/tickets/${ticket.number}`)
    if (javaScriptEnabled) await page.evaluate(() => { window.__marker = 1 })
    await page.getByLabel('Message', { exact: true }).fill('Hi,')
    await page.getByLabel('Canned response').selectOption({ label: 'Greeting' })
    await page.getByRole('button', { name: 'Insert' }).click()
    const filled = `Hi,\n\nHello Grace Hopper, this is Ada Lovelace about ticket ${ticket.number}.`
    await page.waitForFunction((text) => (document.querySelector('#composer-message') as HTMLTextAreaElement | null)?.value === text, filled)
    t.pass('the filled text is in the box, to read before sending')
    if (javaScriptEnabled) t.equal(await page.evaluate(() => window.__marker), 1, 'htmx swapped it in: no page load')

    // Turn the new-ticket notice off; a new ticket queues none.
    await page.goto('/staff/admin/notices')
    await page.getByRole('button', { name: 'Turn off: New ticket in my department' }).click()
    await page.getByText('The new_ticket notice is now off.').waitFor()
    const quiet = await openTicket(app, desk.topics.broken, 'Toner low')
    t.same((await listOutbox(app.db, { ticketId: quiet.id })).map((m) => m.template), ['ticket_received'], 'no new_ticket mail is queued')

    t.same(scriptErrors, [], 'no script errors')
    t.same(cspViolations, [], 'no CSP violations')
  })
}

t.test('the admin settings pages have no serious accessibility problems', { skip }, async (t) => {
  const { app, origin } = await servedApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const browser = await launchBrowser(t)
  // axe is injected as a script, which the real CSP would (rightly) block.
  const { page } = await openPage(t, browser, origin, { bypassCSP: true })
  await page.goto('/staff/login')
  await page.getByLabel('E-mail address').fill(desk.agents.ada.email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
  for (const path of ['/staff/admin/settings', '/staff/admin/canned', '/staff/admin/notices', '/staff/admin/api-keys']) {
    const answer = await page.goto(path)
    await checkAccessibility(t, page, path, 200, answer?.status())
  }
  await page.goto('/staff/admin/settings')
  await page.getByLabel('Desk name').fill('')
  const refused = page.waitForResponse((res) => res.request().method() === 'POST')
  await page.getByRole('button', { name: 'Save settings' }).click()
  const status = (await refused).status()
  await page.getByRole('link', { name: 'Enter a name for the desk.' }).waitFor()
  await checkAccessibility(t, page, 'settings with an error', 422, status)
})
