import t from 'tap'
import { findSurveyByTicket } from '../../src/data/surveys.js'
import { listEvents } from '../../src/data/tickets.js'
import { onOrigin, servedApp } from '../helpers/browser.js'
import { closedByBob, seedDesk } from '../helpers/fixtures.js'
import { lynx, stepsTo, typed } from '../helpers/lynx.js'
import { mailEnv } from '../helpers/mail.js'
import { programs, skipWithout } from '../helpers/programs.js'
import { smtpServer } from '../helpers/smtp.js'

const skip = skipWithout(programs.lynx)

t.test('a client answers the survey in lynx from the link in the delivered closed notice; opening the links records nothing, and no answer is sent that she did not press', { skip }, async (t) => {
  const smtp = await smtpServer(t)
  const { app, origin } = await servedApp(t, { ...mailEnv, SMTP_URL: smtp.url }, { startWorkers: false })
  const desk = await seedDesk(app)
  const ticket = await closedByBob(app, desk)
  await app.outbox.runOnce()
  const closed = smtp.messages.find((m) => m.envelopeTo.includes('grace@example.com') && String(m.parsed.subject).includes('Closed'))
  const mail = closed?.parsed.text ?? ''
  const link = /(http:\/\/help\.example\.test\/survey\/[A-Za-z0-9_-]{43})\s/.exec(mail)?.[1]
  t.ok(link, 'the delivered closed notice links to the survey')
  const survey = onOrigin(origin, link!)
  const browser = lynx(t)

  // A mail scanner fetches every link in the mail: the page and each one-click answer.
  for (const rating of ['', '?rating=great', '?rating=okay', '?rating=not_good']) {
    const page = await browser.dump(survey + rating)
    t.match(page, 'How did we do?', `GET ${rating || 'the page'} shows the survey`)
  }
  t.equal((await findSurveyByTicket(app.db, ticket.id))?.rating, null, 'GETs record nothing')
  t.notOk((await listEvents(app.db, ticket.id)).some((e) => e.type === 'survey_rated'), 'and no event')

  // lynx shows the first radio button of an unchecked group as chosen: the page has none,
  // only one submit button per answer, so nothing is sent until she presses one.
  const shown = await browser.dump(survey)
  t.notMatch(shown, /\(\*\)|\( \)/, 'no radio button for lynx to show as chosen')
  t.match(await browser.dump(`${survey}?rating=okay`), 'You picked Okay', 'the one-click link points its answer out')

  // Grace opens the link in lynx, types a comment, moves to the Okay button and presses it.
  const html = await browser.source(survey)
  const toComment = stepsTo(html, 'textarea[name=comment]')
  const commentRows = Number(/<textarea[^>]*rows="(\d+)"/.exec(html)?.[1] ?? 1)
  const toOkay = stepsTo(html, 'form[method=post] button[name=rating][value=okay]') + commentRows - 1
  const screen = await browser.press(survey, [
    ...Array<string>(toComment).fill('Down Arrow'),
    ...typed('Fixed, but slowly'),
    ...Array<string>(toOkay - toComment).fill('Down Arrow'),
    '^J'
  ])
  t.match(screen, 'Thank you for your answer.', 'lynx shows the thanks after the redirect')
  const answered = await findSurveyByTicket(app.db, ticket.id)
  t.equal(answered?.rating, 'okay', 'the POST from the page recorded the button pressed in lynx')
  t.equal(answered?.comment, 'Fixed, but slowly', 'and the comment typed there')
  t.ok((await listEvents(app.db, ticket.id)).some((e) => e.type === 'survey_rated' && e.actor_kind === 'requester'), 'as an event by the requester')
  t.match(await browser.dump(survey), /Your answer: Okay, with your comment: .Fixed, but slowly./, 'opening the link again shows her answer')
})
