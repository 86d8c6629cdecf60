import t from 'tap'
import type { Page, Response } from 'playwright-core'
import { setDepartmentRole } from '../../src/data/agents.js'
import { launchBrowser, onOrigin, openPage, servedApp } from '../helpers/browser.js'
import { openTicket, password, seedDesk } from '../helpers/fixtures.js'
import { programs, skipWithout } from '../helpers/programs.js'
import { asAgent, ticketRow } from '../helpers/actors.js'

const skip = skipWithout(programs.chromium)

declare global {
  interface Window {
    __marker?: number
    htmx?: unknown
  }
  interface HTMLElement {
    __kept?: boolean
  }
}

const subject = 'Printer jams on page two'
const reply = 'Please try the rear paper tray,\nthen print again.'

/** Text with whitespace collapsed, as the person reads it. */
async function textOf (page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim()
}

/** The value of one fact in the ticket's side panel ("Status", "Assignee"…). */
async function fact (page: Page, name: string): Promise<string> {
  return await textOf(page, `#ticket-summary dl.facts dt:text-is("${name}") + dd`)
}

/** The subjects in the queue table, top to bottom. */
async function queueSubjects (page: Page): Promise<string[]> {
  return await page.locator('#queue-results tbody tr td:nth-child(3)').allInnerTexts()
}

for (const javaScriptEnabled of [false, true]) {
  t.test(`an agent answers and resolves a portal ticket in Chromium, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, { skip }, async (t) => {
    const { app, origin } = await servedApp(t)
    const desk = await seedDesk(app)
    // Bob also works in Billing here, so the "All open" queue mixes two departments to filter.
    await setDepartmentRole(app.db, desk.agents.bob.id, desk.departments.billing, 'agent')
    await openTicket(app, desk.topics.billing, 'Invoice is wrong')
    const browser = await launchBrowser(t)

    // The client opens the ticket through the real portal form.
    const client = await openPage(t, browser, origin, { javaScriptEnabled })
    await client.page.goto('/tickets/new')
    await client.page.getByLabel('Help topic').selectOption({ label: 'Something is broken' })
    await client.page.getByLabel('Your name').fill('Grace Hopper')
    await client.page.getByLabel('Your e-mail address').fill('grace@example.com')
    await client.page.getByLabel('Subject', { exact: true }).fill(subject)
    await client.page.getByLabel('Message', { exact: true }).fill('The second page always jams.')
    await client.page.getByRole('button', { name: 'Send ticket' }).click()
    const received = client.page.getByRole('heading', { level: 1, name: /^Ticket \d{6} received$/ })
    await received.waitFor()
    const number = /Ticket (\d{6}) received/.exec(await received.innerText())?.[1] ?? ''
    t.match(number, /^\d{6}$/, 'the portal gave the ticket a number')
    const privateLink = await client.page.locator('.private-link a').getAttribute('href')
    t.ok(privateLink, 'the portal showed the private link')

    // Bob signs in.
    const staff = await openPage(t, browser, origin, { javaScriptEnabled })
    const { page } = staff
    await page.goto('/staff/login')
    await page.getByLabel('E-mail address').fill(desk.agents.bob.email)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
    t.equal(new URL(page.url()).pathname, '/staff/queues/open', 'signing in leads to the "All open" queue')
    t.equal(await page.getByRole('navigation', { name: 'Queues' }).locator('[aria-current=page]').innerText().then((s) => s.replace(/\s+\d+$/, '')), 'All open', 'the queue is marked current')
    t.same((await queueSubjects(page)).sort(), ['Invoice is wrong', subject], 'both departments\' tickets are in the queue')

    /** The answer to htmx's request for one fragment (after any redirect). */
    const htmxResponse = (pathname: string, target: string): Promise<Response> => page.waitForResponse(async (res) => {
      if (new URL(res.url()).pathname !== pathname) return false
      const headers = await res.request().allHeaders()
      return headers['hx-request'] === 'true' && headers['hx-target'] === target
    })
    // Page loads, not history entries: htmx's pushState is a same-document navigation.
    let pageLoads = 0
    page.on('request', (request) => { if (request.isNavigationRequest() && request.frame() === page.mainFrame()) pageLoads++ })

    // Filtering by a department.
    const department = page.locator('form.filters').getByLabel('Department')
    if (javaScriptEnabled) {
      await page.waitForFunction(() => window.htmx !== undefined)
      await page.evaluate(() => {
        window.__marker = 1
        document.querySelector<HTMLElement>('form.filters')!.__kept = true
        document.querySelector<HTMLElement>('#queue-results table')!.__kept = true
      })
      pageLoads = 0
      let queueRequests = 0
      page.on('request', (request) => { if (new URL(request.url()).pathname === '/staff/queues/open') queueRequests++ })
      const filtered = htmxResponse('/staff/queues/open', 'queue-results')
      // Choosing (as arrow keys do, one option at a time) asks nothing; Apply asks once.
      await department.selectOption({ label: 'Billing' })
      await page.locator('form.filters').getByRole('button', { name: 'Apply' }).click()
      t.equal((await filtered).status(), 200, 'htmx asked for the table alone')
      t.equal(queueRequests, 1, 'one request for the filter, none for the choosing')
      await page.locator('#queue-results tbody tr').filter({ hasText: subject }).waitFor({ state: 'detached' })
      t.same(await queueSubjects(page), ['Invoice is wrong'], 'only the Billing ticket is left')
      t.equal(await page.evaluate(() => window.__marker), 1, 'only the table changed: no page load')
      t.equal(pageLoads, 0, 'the browser loaded no page')
      t.equal(await page.evaluate(() => document.querySelector<HTMLElement>('#queue-results table')!.__kept), undefined, 'the table was swapped')
      t.equal(await page.evaluate(() => document.querySelector<HTMLElement>('form.filters')!.__kept), true, 'the filter form stayed as it was')
      t.equal(await page.locator('#queue-results').count(), 1, 'the table was replaced, not nested')
      t.equal(await page.locator('h1').count(), 1, 'the fragment brought no second page')
      t.equal(await department.inputValue(), String(desk.departments.billing), 'the filter keeps its choice')
      const pushed = new URL(page.url())
      t.equal(pushed.pathname, '/staff/queues/open', 'the address still names the queue')
      t.equal(pushed.searchParams.get('department'), String(desk.departments.billing), 'the address bar shows the filter (data-hx-push-url)')
      t.equal(pushed.search, `?department=${desk.departments.billing}`, 'and nothing but the filter: no empty parameters')

      const unfiltered = htmxResponse('/staff/queues/open', 'queue-results')
      await department.selectOption({ label: 'Any' })
      await page.locator('form.filters').getByRole('button', { name: 'Apply' }).click()
      await unfiltered
      await page.locator('#queue-results tbody tr').filter({ hasText: subject }).waitFor()
      t.same((await queueSubjects(page)).sort(), ['Invoice is wrong', subject], 'without the filter both are back')
      t.equal(await page.evaluate(() => window.__marker), 1, 'still no page load')
      t.notOk(new URL(page.url()).searchParams.get('department'), 'the address bar follows')
    } else {
      await department.selectOption({ label: 'Billing' })
      await page.locator('form.filters').getByRole('button', { name: 'Apply' }).click()
      await page.waitForURL((url) => url.searchParams.get('department') === String(desk.departments.billing))
      t.equal(new URL(page.url()).search, `?department=${desk.departments.billing}`, 'the filter address carries no empty parameters')
      t.same(await queueSubjects(page), ['Invoice is wrong'], 'only the Billing ticket is left')
      await page.getByRole('navigation', { name: 'Queues' }).getByRole('link', { name: /^All open/ }).click()
      await page.waitForURL((url) => url.search === '')
      t.same((await queueSubjects(page)).sort(), ['Invoice is wrong', subject], 'without the filter both are back')
    }

    // Opening the ticket from the queue.
    await page.locator('#queue-results').getByRole('link', { name: subject }).click()
    await page.getByRole('heading', { level: 1, name: `#${number} ${subject}` }).waitFor()
    const ticketUrl = `${origin}/staff/tickets/${number}`
    t.equal(page.url(), ticketUrl, 'the queue links to the ticket')
    t.match(await textOf(page, '.thread'), 'The second page always jams.', 'the client\'s message is in the conversation')
    const replyBox = page.locator('#conversation').getByLabel('Message', { exact: true })
    const assignForm = page.locator('#ticket-summary form:has(#assign-agent)')

    if (javaScriptEnabled) {
      await page.waitForFunction(() => window.htmx !== undefined)
      await page.evaluate(() => {
        window.__marker = 2
        document.getElementById('conversation')!.__kept = true
        document.getElementById('ticket-summary')!.__kept = true
      })
      pageLoads = 0

      // A draft typed before an assignment change survives it: only the side panel swaps.
      await replyBox.fill(reply)
      const assigned = htmxResponse(`/staff/tickets/${number}`, 'ticket-summary')
      await assignForm.getByLabel('Agent').selectOption({ label: 'Bob Kahn' })
      await assignForm.getByLabel('Team').selectOption({ label: 'Printers' })
      await assignForm.getByRole('button', { name: 'Assign' }).click()
      t.equal((await assigned).status(), 200, 'htmx fetched the side panel alone')
      const status = page.locator('#ticket-status')
      await page.evaluate(() => { document.getElementById('ticket-status')!.__kept = true })
      await status.filter({ hasText: 'Assignment saved.' }).waitFor()
      t.equal(await page.evaluate(() => document.getElementById('ticket-status')!.__kept), true, 'the confirmation changed the text of the one live region, not the element')
      await page.waitForFunction(() => document.activeElement?.id === 'summary-title', undefined, { timeout: 10_000 }).catch(() => undefined)
      t.equal(await page.evaluate(() => document.activeElement?.id), 'summary-title', 'focus went to the changed details')
      t.equal(await fact(page, 'Assignee'), 'Bob Kahn', 'the side panel shows the new assignee')
      t.equal(await fact(page, 'Team'), 'Printers', 'and the team')
      t.equal(await page.evaluate(() => document.getElementById('ticket-summary')!.__kept), undefined, 'the side panel was swapped')
      t.equal(await page.evaluate(() => document.getElementById('conversation')!.__kept), true, 'the conversation stayed as it was')
      t.equal(await replyBox.inputValue(), reply, 'the draft in the reply box survived')
      t.equal(await page.evaluate(() => window.__marker), 2, 'no page load for the assignment')

      // The reply, swapped into the conversation.
      const replied = htmxResponse(`/staff/tickets/${number}`, 'conversation')
      await page.getByRole('button', { name: 'Send reply' }).click()
      t.equal((await replied).status(), 200, 'htmx fetched the conversation alone')
      await page.locator('.thread .entry.response').waitFor()
      t.match(await textOf(page, '.thread .entry.response'), reply.replace(/\s+/g, ' '), 'the reply is in the conversation')
      t.match(await textOf(page, '.thread .entry.response .meta'), 'Bob Kahn', 'signed by Bob')
      await status.filter({ hasText: 'Reply sent to the requester.' }).waitFor()
      await page.waitForFunction(() => document.activeElement !== document.body, undefined, { timeout: 10_000 }).catch(() => undefined)
      t.equal(await page.evaluate(() => document.activeElement?.matches('#conversation .thread > li:last-child')), true, 'focus went to the new reply')
      t.equal(await replyBox.inputValue(), '', 'the reply box is empty again')
      t.equal(await page.evaluate(() => document.getElementById('conversation')!.__kept), undefined, 'the conversation was swapped')
      t.equal(await page.evaluate(() => window.__marker), 2, 'htmx swapped the reply in place: no page load')
      t.equal(page.url(), ticketUrl, 'the address did not change')
      t.equal(await page.locator('#conversation').count(), 1, 'the conversation was replaced, not nested')
      t.equal(await page.locator('#ticket-summary').count(), 1, 'the side panel is still there, once')
      t.equal(await page.locator('h1').count(), 1, 'only a fragment was swapped in, not a whole page')

      // Resolving, from the side panel.
      const resolved = htmxResponse(`/staff/tickets/${number}`, 'ticket-summary')
      await page.locator('#ticket-summary').getByRole('button', { name: 'Resolve', exact: true }).click()
      t.equal((await resolved).status(), 200, 'htmx fetched the side panel alone')
      await status.filter({ hasText: 'Status changed.' }).waitFor()
      t.equal(await page.evaluate(() => document.getElementById('ticket-status')!.__kept), true, 'still the same live region')
      t.equal(await fact(page, 'Status'), 'Resolved', 'the side panel shows the ticket resolved')
      t.equal(await page.locator('#ticket-summary').getByRole('button', { name: 'Reopen' }).count(), 1, 'and offers to reopen it')
      t.equal(await page.evaluate(() => window.__marker), 2, 'htmx swapped the resolve in place: no page load')
      t.equal(pageLoads, 0, 'the browser loaded no page on the ticket page')
      t.equal(page.url(), ticketUrl, 'the address did not change')
      t.equal(await page.locator('#ticket-summary').count(), 1, 'the side panel was replaced, not nested')
      t.equal(await page.locator('header.site').count(), 1, 'only a fragment was swapped in, not a whole page')
    } else {
      // Without JavaScript every form is a page load; the assignment comes first, as a typed
      // draft would be lost with the page.
      await assignForm.getByLabel('Agent').selectOption({ label: 'Bob Kahn' })
      await assignForm.getByLabel('Team').selectOption({ label: 'Printers' })
      await assignForm.getByRole('button', { name: 'Assign' }).click()
      await page.getByRole('status').filter({ hasText: 'Assignment saved.' }).waitFor()
      t.equal(page.url(), ticketUrl, 'the assignment redirects back to the ticket')
      t.equal(await fact(page, 'Assignee'), 'Bob Kahn', 'the side panel shows the new assignee')
      t.equal(await fact(page, 'Team'), 'Printers', 'and the team')

      await replyBox.fill(reply)
      await page.getByRole('button', { name: 'Send reply' }).click()
      await page.getByRole('status').filter({ hasText: 'Reply sent to the requester.' }).waitFor()
      t.equal(page.url(), ticketUrl, 'the reply redirects back to the ticket')
      t.match(await textOf(page, '.thread .entry.response'), reply.replace(/\s+/g, ' '), 'the reply is in the conversation')
      t.equal(await replyBox.inputValue(), '', 'the reply box is empty again')

      await page.locator('#ticket-summary').getByRole('button', { name: 'Resolve', exact: true }).click()
      await page.getByRole('status').filter({ hasText: 'Status changed.' }).waitFor()
      t.equal(page.url(), ticketUrl, 'resolving redirects back to the ticket')
      t.equal(await fact(page, 'Status'), 'Resolved', 'the side panel shows the ticket resolved')
    }
    t.same(staff.scriptErrors, [], 'no script errors in the staff panel')
    t.same(staff.cspViolations, [], 'nothing was blocked by the Content-Security-Policy in the staff panel')

    // The client follows the private link in a browser of their own.
    const later = await openPage(t, browser, origin, { javaScriptEnabled })
    const opened = await later.page.goto(onOrigin(origin, privateLink!))
    t.equal(opened?.status(), 200, 'the private link opens the ticket')
    await later.page.getByRole('heading', { level: 1, name: subject }).waitFor()
    t.match(await textOf(later.page, '.thread'), reply.replace(/\s+/g, ' '), 'the client sees the reply')
    const current = later.page.getByRole('list', { name: 'Progress' }).locator('[aria-current=step]')
    t.equal(await current.count(), 1, 'exactly one step is current')
    t.equal(await current.innerText(), 'Resolved', '"Resolved" is the current step')
    t.same([...client.scriptErrors, ...later.scriptErrors], [], 'no script errors in the portal')
    t.same([...client.cspViolations, ...later.cspViolations], [], 'nothing was blocked by the Content-Security-Policy in the portal')
  })
}

t.test('with JavaScript on, a reply held back by a collision is shown with its draft kept', { skip }, async (t) => {
  const { app, origin } = await servedApp(t)
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken, subject)
  const browser = await launchBrowser(t)
  const { page, scriptErrors, cspViolations } = await openPage(t, browser, origin)
  await page.goto(`/staff/login?next=${encodeURIComponent(`/staff/tickets/${ticket.number}`)}`)
  await page.getByLabel('E-mail address').fill(desk.agents.bob.email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: `#${ticket.number} ${subject}` }).waitFor()
  await page.waitForFunction(() => window.htmx !== undefined)
  await page.evaluate(() => { window.__marker = 3 })

  // Ada answers while Bob is typing.
  await app.lifecycle.addResponse(await ticketRow(app, ticket.id), await asAgent(app, desk.agents.ada.id), { body: 'Ada here: please restart the printer.' })
  const replyBox = page.locator('#conversation').getByLabel('Message', { exact: true })
  await replyBox.fill('Bob here: please send a photo.')
  const held = page.waitForResponse((res) => new URL(res.url()).pathname === `/staff/tickets/${ticket.number}/replies`)
  await page.getByRole('button', { name: 'Send reply' }).click()
  t.equal((await held).status(), 409, 'the server held the reply back')
  // What the page without JavaScript shows (test/web/staff/tickets.test.ts) must reach the agent here too.
  const notice = page.locator('#conversation .composer [role=alert]').filter({ hasText: 'Someone else wrote on this ticket' })
  await notice.waitFor({ timeout: 10_000 }).catch(() => undefined)
  t.equal(await notice.count(), 1, 'the agent is told the reply was not sent (the 409 answer is swapped in)')
  t.match(await textOf(page, '.thread'), 'Ada here: please restart the printer.', 'and sees the message that collided')
  t.equal(await replyBox.inputValue(), 'Bob here: please send a photo.', 'the draft is kept')
  t.equal(await page.evaluate(() => window.__marker), 3, 'no page load')
  t.equal((await app.db('thread_entries').where({ ticket_id: ticket.id, kind: 'response' })).length, 1, 'only Ada\'s reply went out')
  t.same(scriptErrors, [], 'no script errors')
  t.same(cspViolations, [], 'nothing was blocked by the Content-Security-Policy')
})

t.test('with JavaScript on, the queue refresh brings new rows and counts but never changes the bulk choice', async (t) => {
  const { app, origin } = await servedApp(t)
  const desk = await seedDesk(app)
  const jam = await openTicket(app, desk.topics.broken, 'Printer jams on page two')
  const toner = await openTicket(app, desk.topics.broken, 'Toner is empty')
  const browser = await launchBrowser(t)
  const { context, page, scriptErrors, cspViolations } = await openPage(t, browser, origin)
  // The page polls every 30 s; a fake clock lets the test wait 31 s in an instant.
  await context.clock.install()
  await page.goto('/staff/login')
  await page.getByLabel('E-mail address').fill(desk.agents.bob.email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
  await page.waitForFunction(() => window.htmx !== undefined)
  await page.evaluate(() => { window.__marker = 4 })

  // Bob ticks two rows and chooses "Set priority: Low"; a third ticket arrives meanwhile.
  await page.getByLabel(`Select ticket ${jam.number}`).check()
  await page.getByLabel(`Select ticket ${toner.number}`).check()
  const bulk = page.locator('form.bulk')
  await bulk.getByLabel('Action').selectOption({ label: 'Set priority' })
  await bulk.getByLabel('Priority').selectOption({ label: 'Low' })
  const later = await openTicket(app, desk.topics.broken, 'Scanner is slow')
  const laterPriority = (await app.db('tickets').where({ id: later.id }).first('priority')).priority as number

  const refreshed = page.waitForResponse(async (res) => (await res.request().allHeaders())['hx-target'] === 'queue-rows')
  await page.clock.runFor(31_000)
  t.equal((await refreshed).status(), 200, 'after 30 s the page asked for its rows')
  await page.getByLabel(`Select ticket ${later.number}`).waitFor()
  t.pass('the new ticket appeared in the queue')
  // The server recounts at most every 5 s (its own clock, which the fake one does not move)
  // and serves the last counts while it does: a refresh after that starts the recount, a
  // later one brings the new count (on a loaded machine the recount may take a moment).
  await new Promise((resolve) => setTimeout(resolve, 5_100))
  const counts = page.getByRole('navigation', { name: 'Queues' }).locator('[aria-current=page]')
  for (let i = 0; i < 10 && !/All open\s+3/.test(await counts.innerText()); i++) {
    if (i >= 2) await new Promise((resolve) => setTimeout(resolve, 250))
    const again = page.waitForResponse(async (res) => (await res.request().allHeaders())['hx-target'] === 'queue-rows')
    await page.clock.runFor(31_000)
    await again
  }
  await counts.filter({ hasText: /All open\s+3/ }).waitFor()
  t.match(await counts.innerText(), /All open\s+3/, 'the count went up to 3')
  t.equal(await page.getByLabel(`Select ticket ${jam.number}`).isChecked(), true, 'the first ticked row is still ticked')
  t.equal(await page.getByLabel(`Select ticket ${toner.number}`).isChecked(), true, 'the second ticked row is still ticked')
  t.equal(await page.getByLabel(`Select ticket ${later.number}`).isChecked(), false, 'the new row is not ticked')
  t.equal(await bulk.getByLabel('Action').inputValue(), 'priority', 'the action is still "Set priority"')
  t.equal(await bulk.getByLabel('Priority').locator('option:checked').innerText(), 'Low', 'the priority is still Low')
  t.equal(await page.evaluate(() => window.__marker), 4, 'no page load')

  await bulk.getByRole('button', { name: 'Apply to selected' }).click()
  await page.getByRole('status').filter({ hasText: '2 of 2 tickets updated.' }).waitFor()
  for (const ticket of [jam, toner]) {
    const row = await app.db('tickets').where({ id: ticket.id }).first('priority', 'assignee_id')
    t.equal(row.priority, 1, `${ticket.number} got the priority Bob chose`)
    t.equal(row.assignee_id, null, `${ticket.number} was not claimed`)
  }
  t.equal((await app.db('tickets').where({ id: later.id }).first('priority')).priority, laterPriority, 'the unticked new ticket kept its priority')
  t.same(scriptErrors, [], 'no script errors')
  t.same(cspViolations, [], 'nothing was blocked by the Content-Security-Policy')
})
