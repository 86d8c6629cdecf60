import t from 'tap'
import type { Page, Response } from 'playwright-core'
import { launchBrowser, onOrigin, openPage, servedApp } from '../helpers/browser.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

declare global {
  interface Window {
    __marker?: number
    htmx?: unknown
  }
}

/** The thread's entries, as the person sees them. */
async function threadText (page: Page): Promise<string> {
  return (await page.locator('.thread').innerText()).replace(/\s+/g, ' ')
}

for (const javaScriptEnabled of [false, true]) {
  t.test(`a person opens a ticket and replies in Chromium, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, { skip }, async (t) => {
    const { origin } = await servedApp(t)
    const browser = await launchBrowser(t)
    const { context, page, scriptErrors, cspViolations } = await openPage(t, browser, origin, { javaScriptEnabled })

    await page.goto('/')
    await page.getByRole('main').getByRole('link', { name: 'Open a ticket' }).click()
    await page.getByRole('heading', { level: 1, name: 'Open a ticket' }).waitFor()
    t.equal(new URL(page.url()).pathname, '/tickets/new', 'the link leads to the form')

    await page.getByLabel('Help topic').selectOption({ label: 'Something is broken' })
    await page.getByLabel('Your name').fill('Grace Hopper')
    await page.getByLabel('Your e-mail address').fill('Grace@Example.com')
    await page.getByLabel('Subject', { exact: true }).fill('Printer jams on page two')
    await page.getByLabel('Message', { exact: true }).fill('Every time I print two pages,\nthe second one jams.')
    await page.getByRole('button', { name: 'Send ticket' }).click()

    const received = page.getByRole('heading', { level: 1, name: /^Ticket \d{6} received$/ })
    await received.waitFor()
    const number = /Ticket (\d{6}) received/.exec(await received.innerText())?.[1]
    t.ok(number, 'the confirmation shows the ticket number')
    t.equal(new URL(page.url()).pathname, `/tickets/${number}/created`, 'the form redirects to the confirmation')
    t.match(await page.getByRole('main').innerText(), 'Printer jams on page two', 'the confirmation names the subject')

    const privateLink = await page.locator('.private-link a').getAttribute('href')
    t.ok(privateLink, 'the private link is shown')
    // The link uses the configured BASE_URL (the real port is unknown until the app listens).
    t.match(privateLink, new RegExp(`^http://help\\.example\\.test/tickets/${number}/access/[A-Za-z0-9_-]{43}$`))
    t.equal(await page.locator('.private-link a').innerText(), privateLink, 'the link is shown as text to copy')

    // Another device with only the link: no cookies from opening the ticket.
    await context.clearCookies()
    const withoutLink = await page.goto(`/tickets/${number}`)
    t.equal(withoutLink?.status(), 404, 'without the link the ticket cannot be seen')

    const opened = await page.goto(onOrigin(origin, privateLink!))
    t.equal(opened?.status(), 200, 'the private link opens the ticket')
    t.equal(page.url(), `${origin}/tickets/${number}`, 'the token leaves the address bar')
    await page.getByRole('heading', { level: 1, name: 'Printer jams on page two' }).waitFor()
    const steps = page.getByRole('list', { name: 'Progress' })
    t.same(await steps.getByRole('listitem').allInnerTexts(), ['Submitted', 'Assigned', 'In progress', 'Resolved', 'Closed'], 'the step indicator shows every step')
    const current = steps.locator('[aria-current=step]')
    t.equal(await current.count(), 1, 'exactly one step is current')
    t.equal(await current.innerText(), 'Submitted', 'Submitted is the current step')
    t.match(await current.getAttribute('class'), /\bcurrent\b/, 'and looks current')
    t.match(await threadText(page), 'Every time I print two pages, the second one jams.', 'the message is in the conversation')

    const replyBox = page.getByLabel('Your message')
    const sendReply = page.getByRole('button', { name: 'Send reply' })

    if (!javaScriptEnabled) {
      await replyBox.fill('It also happens with one page.')
      await sendReply.click()
      await page.getByRole('status').filter({ hasText: 'Your reply has been sent.' }).waitFor()
      t.equal(page.url(), `${origin}/tickets/${number}`, 'the reply redirects back to the ticket')
      t.match(await threadText(page), 'It also happens with one page.', 'the reply is in the conversation')
      t.equal(await replyBox.inputValue(), '', 'the reply box is empty again')
    } else {
      await page.waitForFunction(() => window.htmx !== undefined)
      await page.evaluate(() => { window.__marker = 1 })
      let navigations = 0
      page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations++ })
      const htmxResponse = (pathname: string): Promise<Response> => page.waitForResponse((res) =>
        new URL(res.url()).pathname === pathname && res.request().headers()['hx-request'] === 'true')

      // An empty reply: the 422 answer is swapped in, the error next to the field.
      const refused = htmxResponse(`/tickets/${number}/replies`)
      await sendReply.click()
      t.equal((await refused).status(), 422, 'htmx sent the empty reply and the server refused it')
      const fieldError = page.locator('#reply-message-error')
      await fieldError.waitFor()
      t.equal(await fieldError.innerText(), 'Enter your message.', 'the error is shown')
      t.equal(await page.locator('.field:has(#reply-message) #reply-message-error').count(), 1, 'next to the field')
      t.equal(await replyBox.getAttribute('aria-invalid'), 'true', 'the field is marked invalid')
      t.match(await replyBox.getAttribute('aria-describedby'), /\breply-message-error\b/, 'and described by the error')
      t.match(await page.locator('.error-summary').innerText(), 'Enter your message.', 'the summary names the problem')
      t.equal(await page.evaluate(() => window.__marker), 1, 'the page was not reloaded for the error')

      // A real reply, from the form htmx swapped in.
      await replyBox.fill('It also happens with one page.')
      await sendReply.click()
      await page.locator('.thread').getByText('It also happens with one page.').waitFor()
      t.match(await threadText(page), 'It also happens with one page.', 'the reply is in the conversation')
      t.match(await page.getByRole('status').innerText(), 'Your reply has been sent.', 'the confirmation message is shown')
      t.equal(await page.locator('#reply-message-error').count(), 0, 'the error is gone')
      t.equal(await replyBox.inputValue(), '', 'the reply box is empty again')
      t.equal(await page.evaluate(() => window.__marker), 1, 'htmx swapped the ticket in place: no page load')
      t.equal(navigations, 0, 'the main frame never navigated')
      t.equal(page.url(), `${origin}/tickets/${number}`, 'the address did not change')
      t.equal(await page.locator('#ticket').count(), 1, 'the ticket was replaced, not nested')
      t.equal(await page.locator('header.site').count(), 1, 'only the fragment was swapped in, not a whole page')
      t.equal(await page.locator('h1').count(), 1, 'one main heading')
      t.same(scriptErrors, [], 'no script errors')
      t.same(cspViolations, [], 'nothing was blocked by the Content-Security-Policy')
    }
  })
}
