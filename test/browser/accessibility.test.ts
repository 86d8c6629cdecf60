import t from 'tap'
import { checkAccessibility, seriousViolations } from '../helpers/axe.js'
import { launchBrowser, onOrigin, openPage, servedApp } from '../helpers/browser.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

t.test('portal pages have no serious or critical accessibility violations (axe-core)', { skip }, async (t) => {
  const { origin } = await servedApp(t)
  const browser = await launchBrowser(t)
  // The CSP (script-src 'self') would block the injected axe script; bypass it for the audit only.
  const { page } = await openPage(t, browser, origin, { bypassCSP: true })

  // The audit itself works: a field without a label on a real page is caught.
  await page.goto('/')
  await page.evaluate(() => { document.querySelector('main')!.append(document.createElement('input')) })
  t.same((await seriousViolations(page)).map((v) => v.id), ['label'], 'axe reports a planted unlabelled field')

  let response = await page.goto('/')
  await checkAccessibility(t, page, 'home', 200, response?.status())

  response = await page.goto('/tickets/new')
  await checkAccessibility(t, page, 'new-ticket form', 200, response?.status())

  // Sent with only a name: the form comes back with the problems listed.
  await page.getByLabel('Your name').fill('Grace Hopper')
  let answer = page.waitForResponse((res) => res.request().method() === 'POST' && new URL(res.url()).pathname === '/tickets')
  await page.getByRole('button', { name: 'Send ticket' }).click()
  const refused = await answer
  await page.locator('.error-summary').waitFor()
  t.ok(await page.locator('#ticket-email-error').isVisible(), 'the form shows its errors')
  await checkAccessibility(t, page, 'new-ticket form with errors', 422, refused.status())

  await page.getByLabel('Help topic').selectOption({ label: 'General question' })
  await page.getByLabel('Your e-mail address').fill('grace@example.com')
  await page.getByLabel('Subject', { exact: true }).fill('Cannot log in')
  await page.getByLabel('Message', { exact: true }).fill('The login page says my password is wrong.')
  answer = page.waitForResponse((res) => new URL(res.url()).pathname.endsWith('/created'))
  await page.getByRole('button', { name: 'Send ticket' }).click()
  const created = await answer
  await page.locator('.private-link a').waitFor()
  await checkAccessibility(t, page, 'confirmation page', 200, created.status())

  const privateLink = await page.locator('.private-link a').getAttribute('href')
  response = await page.goto(onOrigin(origin, privateLink!))
  await page.getByRole('list', { name: 'Progress' }).waitFor()
  await checkAccessibility(t, page, 'client ticket page', 200, response?.status())

  response = await page.goto('/check')
  await checkAccessibility(t, page, 'check-a-ticket page', 200, response?.status())

  response = await page.goto('/no/such/page')
  t.match(await page.getByRole('heading', { level: 1 }).innerText(), 'Not found', 'the 404 page says so')
  await checkAccessibility(t, page, '404 page', 404, response?.status())
})
