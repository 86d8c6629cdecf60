import t from 'tap'
import { findSurveyByTicket } from '../../../src/data/surveys.js'
import { findTicketByNumber, listEvents } from '../../../src/data/tickets.js'
import { testApp, testClock } from '../../helpers/app.js'
import { closedByBob, seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { mailEnv } from '../../helpers/mail.js'
import { smtpServer } from '../../helpers/smtp.js'
import { Visitor } from '../../helpers/visitor.js'

/** The survey link in the last mail to `address` the SMTP server received. */
function surveyLinkIn (text: string): string {
  const link = /http:\/\/help\.example\.test(\/survey\/[A-Za-z0-9_-]{43})\s/.exec(text)?.[1]
  if (!link) throw new Error(`no survey link in: ${text}`)
  return link
}

t.test('the closed notice delivered by SMTP carries the survey; a GET records nothing, the page\'s POST does, Not good tells Bob and the manager and offers to reopen', async (t) => {
  const smtp = await smtpServer(t)
  const clock = testClock()
  const app = await testApp(t, { ...mailEnv, SMTP_URL: smtp.url }, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  // Mel manages Support too, so she hears about a Not good there.
  await app.db('agent_departments').insert({ agent_id: desk.agents.mel.id, department_id: desk.departments.support, role: 'manager' })
  const ticket = await closedByBob(app, desk)
  await app.outbox.runOnce()
  const closed = smtp.messages.find((m) => m.envelopeTo.includes('grace@example.com') && String(m.parsed.subject).includes('Closed'))
  t.ok(closed, 'Grace receives the closed notice')
  const text = closed?.parsed.text ?? ''
  t.match(text, 'How did we do?')
  const link = surveyLinkIn(text)
  t.match(text, `${link}?rating=not_good`, 'with a one-click link per answer')
  t.notMatch(String(closed?.parsed.html), /Great: <a href="[^"]*rating=great"[^>]*>[^<]*<\/a>[^<]*<a/, 'and the HTML part links each once')
  t.equal((await app.db('survey_tokens')).length, 1)
  t.notMatch(JSON.stringify(await app.db('survey_tokens')), link.slice(8), 'only the hash of the token is stored')

  // A mail scanner (or Grace) follows the one-click link: the page opens, the answer pointed out, and nothing is recorded.
  const grace = new Visitor(app)
  const scanned = await grace.get(`${link}?rating=not_good`)
  t.equal(scanned.status, 200)
  t.same(scanned.$('form button[name=rating]').map((_, b) => `${scanned.$(b).attr('value')!}=${scanned.$(b).text()}`).get(), ['great=Great', 'okay=Okay', 'not_good=Not good'], 'one submit button per answer')
  t.equal(scanned.$('form input[name=rating]').length, 0, 'and no field that could carry an answer by itself')
  t.match(scanned.$('#survey-rating-picked').text(), 'You picked Not good — press Not good to send it.', 'the answer clicked in the mail is pointed out')
  t.equal(scanned.$('button[aria-describedby="survey-rating-picked"]').attr('value'), 'not_good', 'beside its button')
  t.equal(scanned.headers['referrer-policy'], 'no-referrer')
  t.equal((await findSurveyByTicket(app.db, ticket.id))?.rating, null, 'a GET records nothing')
  t.notOk((await listEvents(app.db, ticket.id)).some((e) => e.type === 'survey_rated'))

  // Sent without pressing an answer (a browser's implicit submission, say): refused, the comment kept.
  const blank = await grace.get(link)
  t.equal(blank.$('#survey-rating-picked').length, 0, 'nothing is pointed out without a one-click link')
  const missing = await grace.submit(blank, `form[action="${link}"]`, { comment: 'Kept text' })
  t.equal(missing.status, 422)
  t.match(missing.$('#survey-rating-error').text(), 'Send your answer with one of the buttons: Great, Okay or Not good.')
  t.equal(missing.$('textarea[name=comment]').text(), 'Kept text')
  const long = await grace.submit(blank, `form[action="${link}"]`, { rating: 'great', comment: 'x'.repeat(2001) })
  t.equal(long.status, 422)
  t.match(long.$('#survey-comment-error').text(), '2000 characters or fewer')
  const forged = await grace.submit(blank, `form[action="${link}"]`, { rating: 'superb', comment: '<b>Kept</b>' })
  t.equal(forged.status, 422)
  t.equal(forged.$('textarea[name=comment]').text(), '<b>Kept</b>', 'kept as text')
  t.equal((await findSurveyByTicket(app.db, ticket.id))?.rating, null, 'bad input records nothing')

  smtp.messages.length = 0
  const rated = await grace.submit(scanned, `form[action="${link}"]`, { rating: 'not_good', comment: 'The printer still jams.' })
  t.equal(rated.status, 200)
  t.match(rated.text, 'The people who worked on your ticket have been told.')
  const survey = await findSurveyByTicket(app.db, ticket.id)
  t.equal(survey?.rating, 'not_good')
  t.equal(survey?.comment, 'The printer still jams.')
  const events = await listEvents(app.db, ticket.id)
  t.ok(events.some((e) => e.type === 'survey_rated' && e.actor_kind === 'requester'), 'the rating is an event by the requester')

  await app.outbox.runOnce()
  const told = smtp.messages.filter((m) => String(m.parsed.subject).includes('Rated Not good')).flatMap((m) => m.envelopeTo).sort()
  t.same(told, [desk.agents.ada.email, desk.agents.bob.email, desk.agents.mel.email], 'the agent and the department\'s managers (Ada, an administrator, manages every department) are told')
  t.match(smtp.messages.find((m) => String(m.parsed.subject).includes('Rated Not good'))?.parsed.text, 'The printer still jams.')

  // Staff see the rating and the comment on the ticket page.
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const staffPage = await bob.get(`/staff/tickets/${ticket.number}`)
  t.match(staffPage.$('#survey-result').text(), 'Not good')
  t.match(staffPage.$('#survey-result').text(), 'The printer still jams.')

  // Not good offers to reopen; one POST reopens the ticket, as the requester.
  t.equal(rated.$(`form[action="${link}/reopening"]`).length, 1, 'Not good offers to reopen')
  const reopened = await grace.submit(rated, `form[action="${link}/reopening"]`)
  t.match(reopened.text, `Ticket ${ticket.number} is open again`)
  t.equal((await findTicketByNumber(app.db, ticket.number))?.status, 'open')
  t.equal(reopened.$(`form[action="${link}/reopening"]`).length, 0, 'and is not offered again')

  await assertValidDocuments(t, { survey: scanned.html, rated: rated.html, missing: missing.html })
})
