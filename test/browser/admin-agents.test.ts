import t from 'tap'
import type { Page } from 'playwright-core'
import { listOutbox } from '../../src/data/outbox.js'
import { checkAccessibility } from '../helpers/axe.js'
import { launchBrowser, openPage, servedApp } from '../helpers/browser.js'
import { password, seedDesk } from '../helpers/fixtures.js'
import { tokenInSentMail } from '../helpers/mail.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

async function signIn (page: Page, email: string, secret: string): Promise<void> {
  await page.goto('/staff/login')
  await page.getByLabel('E-mail address').fill(email)
  await page.getByLabel('Password').fill(secret)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
}

for (const javaScriptEnabled of [false, true]) {
  t.test(`an administrator invites an agent, who accepts; a role, then disabling ends their session (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, { skip }, async (t) => {
    const { app, origin } = await servedApp(t, {}, { startWorkers: false })
    const desk = await seedDesk(app)
    const browser = await launchBrowser(t)

    const admin = await openPage(t, browser, origin, { javaScriptEnabled })
    await signIn(admin.page, desk.agents.ada.email, password)
    await admin.page.getByRole('link', { name: 'Admin' }).click()
    await admin.page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Agents' }).click()
    await admin.page.getByRole('heading', { level: 1, name: 'Agents' }).waitFor()

    await admin.page.getByLabel('Name').fill('Zoe Zhang')
    await admin.page.getByLabel('E-mail address').fill('zoe@desk.test')
    await admin.page.getByRole('button', { name: 'Send invitation' }).click()
    await admin.page.getByText('Zoe Zhang is invited').waitFor()
    t.match(await admin.page.locator('tbody tr', { hasText: 'Zoe Zhang' }).innerText(), /Invited/)

    // Zoe follows the link in her mail and chooses a password.
    const [invitation] = await listOutbox(app.db, { toAddress: 'zoe@desk.test' })
    const token = await tokenInSentMail(app, invitation!.id)
    const zoe = await openPage(t, browser, origin, { javaScriptEnabled })
    await zoe.page.goto(`/staff/password-reset/${token}`)
    await zoe.page.getByLabel('New password').fill('zoe picks a phrase')
    await zoe.page.getByLabel('Password again').fill('zoe picks a phrase')
    await zoe.page.getByRole('button').filter({ hasText: /password/i }).click()
    await zoe.page.getByText('Your password is set.').waitFor()
    await signIn(zoe.page, 'zoe@desk.test', 'zoe picks a phrase')
    t.match(await zoe.page.locator('#no-role-hint').innerText(), 'You have no role in any department yet', 'a new agent learns why the queues are empty')

    // Ada gives her a role in Support.
    await admin.page.reload()
    await admin.page.getByRole('link', { name: 'Zoe Zhang' }).click()
    await admin.page.getByRole('heading', { level: 1, name: 'Zoe Zhang' }).waitFor()
    t.match(await admin.page.locator('main').innerText(), /Active/, 'accepting made her active')
    await admin.page.getByLabel('Support').selectOption({ label: 'Agent' })
    await admin.page.getByRole('button', { name: 'Save changes' }).click()
    await admin.page.getByText('Changes saved.').waitFor()
    await zoe.page.reload()
    t.equal(await zoe.page.locator('#no-role-hint').count(), 0, 'with a role, the hint is gone')

    // Ada disables her: Zoe's next request goes to the sign-in page.
    await admin.page.getByRole('button', { name: 'Disable' }).click()
    await admin.page.getByText('Zoe Zhang is disabled and signed out everywhere.').waitFor()
    await zoe.page.goto('/staff/queues/open')
    await zoe.page.getByRole('button', { name: 'Sign in' }).waitFor()
    t.equal(new URL(zoe.page.url()).pathname, '/staff/login', 'her session ended')

    t.same(admin.scriptErrors, [], 'no script errors')
    t.same(admin.cspViolations, [], 'no CSP violations')
  })
}

t.test('the agent pages have no serious or critical accessibility violations (axe-core)', { skip }, async (t) => {
  const { app, origin } = await servedApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const browser = await launchBrowser(t)
  // The CSP (script-src 'self') would block the injected axe script; bypassed for the audit only.
  const { page } = await openPage(t, browser, origin, { bypassCSP: true })
  await signIn(page, desk.agents.ada.email, password)
  let response = await page.goto('/staff/admin/agents')
  await checkAccessibility(t, page, 'agent list', 200, response?.status())
  await page.getByRole('button', { name: 'Send invitation' }).click()
  await page.getByText('There is a problem').waitFor()
  await checkAccessibility(t, page, 'invite form with errors', 422, 422)
  response = await page.goto(`/staff/admin/agents/${desk.agents.bob.id}`)
  await checkAccessibility(t, page, 'an agent', 200, response?.status())
})
