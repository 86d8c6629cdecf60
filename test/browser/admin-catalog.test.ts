import t from 'tap'
import type { Page } from 'playwright-core'
import { checkAccessibility } from '../helpers/axe.js'
import { launchBrowser, openPage, servedApp } from '../helpers/browser.js'
import { openTicket, password, seedDesk } from '../helpers/fixtures.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

async function flash (page: Page): Promise<string> {
  return (await page.locator('p.notice[role=status]').innerText()).trim()
}

for (const javaScriptEnabled of [false, true]) {
  t.test(`an admin sets up a department, a topic routed to it and a team in Chromium, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, { skip }, async (t) => {
    const { app, origin } = await servedApp(t, {}, { startWorkers: false })
    const desk = await seedDesk(app)
    const browser = await launchBrowser(t)
    const admin = await openPage(t, browser, origin, { javaScriptEnabled })
    const { page } = admin
    await page.goto('/staff/login')
    await page.getByLabel('E-mail address').fill(desk.agents.ada.email)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()

    // A department with an address of its own, from the admin menu.
    await page.getByRole('link', { name: 'Admin' }).click()
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Departments' }).click()
    await page.getByRole('heading', { level: 1, name: 'Departments' }).waitFor()
    const create = page.locator('form[action="/staff/admin/departments"]')
    await create.getByLabel('Name', { exact: true }).fill('Billing')
    await create.getByRole('button', { name: 'Create department' }).click()
    t.match(await page.locator('.error-summary').innerText(), 'There is already a department with that name.', 'a duplicate name is refused')
    t.equal(await create.getByLabel('Name', { exact: true }).inputValue(), 'Billing', 'with the text kept')
    await create.getByLabel('Name', { exact: true }).fill('Hardware')
    await create.getByLabel('Default priority').selectOption({ label: 'High' })
    await create.getByRole('button', { name: 'Create department' }).click()
    await page.getByRole('heading', { level: 1, name: 'Department Hardware' }).waitFor()
    await page.getByLabel('Add an address').fill('hardware@desk.test')
    await page.getByRole('button', { name: 'Add address' }).click()
    t.equal(await flash(page), 'Mail to hardware@desk.test now opens tickets here.')

    // A help topic routed to it.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Help topics' }).click()
    const topic = page.locator('form[action="/staff/admin/topics"]')
    await topic.getByLabel('Name', { exact: true }).fill('Laptop repair')
    await topic.getByLabel('Order').fill('-5')
    await topic.getByLabel('Department').selectOption({ label: 'Hardware' })
    await topic.getByRole('button', { name: 'Create help topic' }).click()
    await page.getByRole('heading', { level: 1, name: 'Help topic Laptop repair' }).waitFor()

    // A team with a member and a lead.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Teams' }).click()
    await page.locator('form[action="/staff/admin/teams"]').getByLabel('Name', { exact: true }).fill('Repairs')
    await page.getByRole('button', { name: 'Create team' }).click()
    await page.getByRole('heading', { level: 1, name: 'Team Repairs' }).waitFor()
    await page.getByLabel('Add an agent').selectOption({ label: 'Bob Kahn' })
    await page.getByRole('button', { name: 'Add to the team' }).click()
    t.equal(await flash(page), 'Member added.')
    await page.getByLabel('Lead', { exact: true }).selectOption({ label: 'Bob Kahn' })
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    t.equal(await flash(page), 'Team saved.')
    await page.getByRole('link', { name: /The team’s queue/ }).click()
    await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
    t.equal(new URL(page.url()).search, `?team=${(await app.db('teams').where({ name: 'Repairs' }).first('id')).id as number}`, 'the team’s queue is the queue filtered by team')

    // The client sees the topic first on the portal and files a ticket under it.
    const client = await openPage(t, browser, origin, { javaScriptEnabled })
    await client.page.goto('/tickets/new')
    const offered = await client.page.getByLabel('Help topic').locator('option').allInnerTexts()
    t.equal(offered[1], 'Laptop repair', 'the new topic is on the portal, first by its order')
    await client.page.getByLabel('Help topic').selectOption({ label: 'Laptop repair' })
    await client.page.getByLabel('Your name').fill('Grace Hopper')
    await client.page.getByLabel('Your e-mail address').fill('grace@example.com')
    await client.page.getByLabel('Subject', { exact: true }).fill('Laptop will not boot')
    await client.page.getByLabel('Message', { exact: true }).fill('It shows a black screen.')
    await client.page.getByRole('button', { name: 'Send ticket' }).click()
    await client.page.getByRole('heading', { level: 1, name: /received$/ }).waitFor()
    const ticket = await app.db('tickets as t').join('departments as d', 'd.id', 't.department_id').where('t.subject', 'Laptop will not boot').first('d.name', 't.priority')
    t.same(ticket, { name: 'Hardware', priority: 3 }, 'in the topic’s department, with its default priority')

    t.same(admin.scriptErrors, [], 'no script errors')
    t.same(admin.cspViolations, [], 'nothing the Content-Security-Policy blocked')
    t.same(client.cspViolations, [])
  })
}

t.test('the department, help topic and team pages have no serious accessibility violations (axe-core)', { skip }, async (t) => {
  const { app, origin } = await servedApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  await openTicket(app, desk.topics.billing, 'Invoice is wrong')
  const browser = await launchBrowser(t)
  // The CSP (script-src 'self') would block the injected axe script, so it is bypassed for the audit only.
  const { page } = await openPage(t, browser, origin, { bypassCSP: true })
  await page.goto('/staff/login')
  await page.getByLabel('E-mail address').fill(desk.agents.ada.email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()

  const pages: Array<[string, string]> = [
    ['departments', '/staff/admin/departments'],
    ['department holding tickets', `/staff/admin/departments/${desk.departments.billing}`],
    ['help topics', '/staff/admin/topics'],
    ['help topic', `/staff/admin/topics/${desk.topics.billing}`],
    ['teams', '/staff/admin/teams'],
    ['team', `/staff/admin/teams/${desk.teams.printers}`]
  ]
  for (const [name, url] of pages) {
    const response = await page.goto(url)
    await checkAccessibility(t, page, name, 200, response?.status())
  }
  await page.goto('/staff/admin/departments')
  const refused = page.waitForResponse((res) => res.request().method() === 'POST')
  await page.locator('form[action="/staff/admin/departments"]').getByLabel('Name', { exact: true }).fill('Billing')
  await page.getByRole('button', { name: 'Create department' }).click()
  await checkAccessibility(t, page, 'departments with an error', 422, (await refused).status())
})
