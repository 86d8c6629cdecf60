import t from 'tap'
import { launchBrowser, openPage, servedApp } from '../helpers/browser.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

for (const javaScriptEnabled of [false, true]) {
  t.test(`a person attaches files to a new ticket in Chromium, JavaScript ${javaScriptEnabled ? 'on' : 'off'}; a refused file keeps the text`, { skip }, async (t) => {
    const { app, origin } = await servedApp(t, { ATTACHMENT_FILE_MB: '0.01' })
    const browser = await launchBrowser(t)
    const { page, scriptErrors, cspViolations } = await openPage(t, browser, origin, { javaScriptEnabled })

    await page.goto('/tickets/new')
    await page.getByLabel('Help topic').selectOption({ label: 'Something is broken' })
    await page.getByLabel('Your name').fill('Grace Hopper')
    await page.getByLabel('Your e-mail address').fill('grace@example.com')
    await page.getByLabel('Subject', { exact: true }).fill('Printer jams')
    await page.getByLabel('Message', { exact: true }).fill('Log attached.')
    await page.getByLabel('Attach files').setInputFiles([
      { name: 'printer.log', mimeType: 'text/plain', buffer: Buffer.from('jam at tray 2\n') },
      { name: 'dump “big”.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(20_000) }
    ])
    await page.getByRole('button', { name: 'Send ticket' }).click()
    await page.locator('#ticket-files-error').waitFor()
    t.match(await page.locator('#ticket-files-error').innerText(), '“dump “big”.bin” is larger than 10 KB, the limit for one file.', 'the refused file is named, with the reason')
    t.equal(await page.getByLabel('Message', { exact: true }).inputValue(), 'Log attached.', 'the message is still there')

    await page.getByLabel('Attach files').setInputFiles([{ name: 'printer.log', mimeType: 'text/plain', buffer: Buffer.from('jam at tray 2\n') }])
    await page.getByRole('button', { name: 'Send ticket' }).click()
    await page.getByRole('heading', { level: 1, name: /^Ticket \d{6} received$/ }).waitFor()
    const number = /\/tickets\/(\d+)\/created/.exec(page.url())![1]!
    await page.goto(`/tickets/${number}`)
    const link = page.locator('.attachments a', { hasText: 'printer.log' })
    await link.waitFor()
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
    t.equal(download.suggestedFilename(), 'printer.log', 'the file downloads under its name')
    t.same(await app.db('attachments').pluck('filename'), ['printer.log'])
    t.same(scriptErrors, [])
    t.same(cspViolations, [])
  })
}
