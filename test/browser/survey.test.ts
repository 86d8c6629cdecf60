import t from 'tap'
import { findSurveyByTicket } from '../../src/data/surveys.js'
import { findTicketById } from '../../src/data/tickets.js'
import { asAgent, ticketRow } from '../helpers/actors.js'
import { launchBrowser, onOrigin, openPage, servedApp } from '../helpers/browser.js'
import { openTicket, seedDesk } from '../helpers/fixtures.js'
import { mailEnv } from '../helpers/mail.js'
import { programs, skipWithout } from '../helpers/programs.js'
import { smtpServer } from '../helpers/smtp.js'

const skip = skipWithout(programs.chromium)

t.test('a client answers the survey from the link in the mail in Chromium with JavaScript off', { skip }, async (t) => {
  const smtp = await smtpServer(t)
  const { app, origin } = await servedApp(t, { ...mailEnv, SMTP_URL: smtp.url }, { startWorkers: false })
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  await app.lifecycle.closeTicket(await ticketRow(app, ticket.id), await asAgent(app, desk.agents.bob.id))
  await app.outbox.runOnce()
  const mail = smtp.messages.find((m) => String(m.parsed.subject).includes('Closed'))?.parsed.text ?? ''
  const oneClick = /(http:\/\/help\.example\.test\/survey\/[A-Za-z0-9_-]{43}\?rating=okay)/.exec(mail)?.[1]
  t.ok(oneClick, 'the closed notice has a one-click link per answer')

  const browser = await launchBrowser(t)
  const { page, scriptErrors } = await openPage(t, browser, origin, { javaScriptEnabled: false })
  await page.goto(onOrigin(origin, oneClick!))
  await page.getByRole('heading', { level: 1, name: 'How did we do?' }).waitFor()
  await page.getByText('You picked Okay — press Okay to send it.').waitFor()
  t.equal(await page.getByRole('button', { name: 'Okay' }).getAttribute('aria-describedby'), 'survey-rating-picked', 'the answer clicked in the mail is pointed out at its button')
  t.equal((await findSurveyByTicket(app.db, ticket.id))?.rating, null, 'opening the page recorded nothing')

  await page.getByLabel('Your comment (optional)').fill('Still jams on page two.')
  await page.getByRole('button', { name: 'Not good' }).click()
  await page.getByText('The people who worked on your ticket have been told.').waitFor()
  t.equal((await findSurveyByTicket(app.db, ticket.id))?.rating, 'not_good', 'the form recorded the answer')

  await page.getByRole('button', { name: 'Reopen my ticket' }).click()
  await page.getByText(`Ticket ${ticket.number} is open again`).waitFor()
  t.equal((await findTicketById(app.db, ticket.id))?.status, 'open', 'and reopened the ticket')
  t.same(scriptErrors, [])
})
