import t from 'tap'
import type { Page } from 'playwright-core'
import { launchBrowser, onOrigin, openPage, servedApp } from '../helpers/browser.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

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

    // The portal loads no script: with JavaScript on or off the reply is one plain post.
    t.equal(await page.locator('script').count(), 0, 'the client ticket page loads no script')

    // An empty reply: the page comes back with the problem named, and focus on it.
    await sendReply.click()
    const summary = page.locator('.error-summary')
    await summary.waitFor()
    t.match(await summary.innerText(), 'Enter your message.', 'the summary names the problem')
    t.equal(await page.locator('.field:has(#reply-message) #reply-message-error').innerText(), 'Enter your message.', 'next to the field')
    t.match(await page.title(), /^Error: /, 'the page title says there is an error')
    if (javaScriptEnabled) {
      t.equal(await page.evaluate(() => document.activeElement?.classList.contains('error-summary')), true, 'focus is on the error summary')
      t.equal(await summary.evaluate((el) => { const box = el.getBoundingClientRect(); return box.top >= 0 && box.bottom <= window.innerHeight }), true, 'which is in view')
    }

    await replyBox.fill('It also happens with one page.')
    await sendReply.click()
    await page.getByRole('status').filter({ hasText: 'Your reply has been sent.' }).waitFor()
    t.equal(page.url(), `${origin}/tickets/${number}`, 'the reply redirects back to the ticket')
    t.match(await threadText(page), 'It also happens with one page.', 'the reply is in the conversation')
    t.equal(await replyBox.inputValue(), '', 'the reply box is empty again')
    t.same(scriptErrors, [], 'no script errors')
    t.same(cspViolations, [], 'nothing was blocked by the Content-Security-Policy')
  })
}
