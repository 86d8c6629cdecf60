import t from 'tap'
import { Secret, TOTP } from 'otpauth'
import { launchBrowser, openPage, servedApp } from '../helpers/browser.js'
import { testClock } from '../helpers/app.js'
import { password, seedDesk } from '../helpers/fixtures.js'
import { mailEnv, plainMessage } from '../helpers/mail.js'
import { programs, skipWithout } from '../helpers/programs.js'
import { smtpServer } from '../helpers/smtp.js'

const skip = skipWithout(programs.chromium)

const codeAt = (secret: string, at: number): string =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: at })

t.test('in Chromium with JavaScript off: a ticket for a caller, a blocked domain, two-factor sign-in', { skip }, async (t) => {
  const clock = testClock(Date.now())
  const smtp = await smtpServer(t)
  const { app, origin } = await servedApp(t, { ...mailEnv, SMTP_URL: smtp.url }, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const browser = await launchBrowser(t)
  const { page, scriptErrors } = await openPage(t, browser, origin, { javaScriptEnabled: false })
  const signIn = async (): Promise<void> => {
    await page.goto('/staff/login')
    await page.getByLabel('E-mail address').fill(desk.agents.ada.email)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
  }
  await signIn()
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()

  // A caller, told by mail; another, not told.
  for (const told of [true, false]) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New ticket' }).click()
    await page.getByLabel('Requester’s name').fill(told ? 'Carl Caller' : 'Quiet Caller')
    await page.getByLabel('Requester’s e-mail address').fill(told ? 'carl@example.com' : 'quiet@example.com')
    await page.getByLabel('Came in by').selectOption({ label: 'Phone' })
    await page.getByLabel('Help topic').selectOption({ label: 'Something is broken' })
    await page.getByLabel('Subject').fill('The phone line crackles')
    await page.getByLabel('Their request').fill('Called at 9: the line crackles all day.')
    if (!told) await page.getByLabel('Tell the requester').uncheck()
    await page.getByRole('button', { name: 'Open ticket' }).click()
    await page.getByText(told ? 'Carl Caller is sent its private link' : 'the requester was not told').waitFor()
    t.equal(await page.locator('dt:has-text("Came in by") + dd').innerText(), 'Phone', 'the ticket page shows the source')
  }
  await app.outbox.runOnce()
  t.ok(smtp.messages.some((m) => m.envelopeTo.includes('carl@example.com') && /\/access\/[A-Za-z0-9_-]{43}/.test(m.parsed.text ?? '')), 'Carl gets his private link at the SMTP server')
  t.notOk(smtp.messages.some((m) => m.envelopeTo.includes('quiet@example.com')), 'the quiet caller gets nothing')

  // Block a domain: its mail is set aside, the portal refuses it.
  await page.getByRole('link', { name: 'Admin' }).click()
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Blocked senders' }).click()
  await page.getByLabel('Address or domain').fill('spam.example')
  await page.getByRole('button', { name: 'Block', exact: true }).click()
  await page.getByText('Mail from every address at spam.example is now set aside.').waitFor()
  t.equal((await app.inbound.receive(plainMessage({ From: 'sam@spam.example', Subject: 'Pills, cheap' }))).outcome, 'ignored')
  await page.reload()
  t.match(await page.locator('table').last().innerText(), 'Pills, cheap', 'the mail is listed as set aside')
  const client = await openPage(t, browser, origin, { javaScriptEnabled: false })
  await client.page.goto('/tickets/new')
  await client.page.getByLabel('Help topic').selectOption({ label: 'Something is broken' })
  await client.page.getByLabel('Your name').fill('Sam')
  await client.page.getByLabel('Your e-mail address').fill('sam@spam.example')
  await client.page.getByLabel('Subject').fill('Pills')
  await client.page.getByLabel('Message').fill('Cheap pills here.')
  await client.page.getByRole('button', { name: 'Send ticket' }).click()
  await client.page.getByText('We could not accept this request. Please contact us another way.').waitFor()
  t.pass('the portal refuses it with a neutral message')

  // Two-factor sign-in: set up, sign out, sign in with a code; the code again is refused; a recovery code once.
  await page.getByRole('link', { name: 'Two-factor sign-in' }).first().click()
  t.equal(await page.locator('.qr-code svg').count(), 1, 'the QR code shows without JavaScript')
  const secret = (await page.locator('.totp-secret').innerText()).replace(/\s/g, '')
  await page.getByLabel('Code from your app').fill(codeAt(secret, clock.now()))
  await page.getByRole('button', { name: 'Turn on' }).click()
  const recovery = await page.locator('.recovery-codes code').allInnerTexts()
  t.equal(recovery.length, 10)
  await page.getByRole('button', { name: 'Sign out' }).click()
  clock.advance(30_000)
  const code = codeAt(secret, clock.now())
  for (const [attempt, expected] of [[code, 'signed in'], [code, 'refused'], [recovery[0]!, 'signed in'], [recovery[0]!, 'refused']] as const) {
    await signIn()
    await page.getByLabel('Code', { exact: true }).fill(attempt)
    await page.getByRole('button', { name: 'Sign in' }).click()
    if (expected === 'signed in') {
      await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
      await page.getByRole('button', { name: 'Sign out' }).click()
    } else {
      await page.getByText('That code is not right, or it was used already.').first().waitFor()
    }
    t.pass(`${attempt === code ? 'the code' : 'a recovery code'}: ${expected}`)
  }
  t.same(scriptErrors, [])
})
