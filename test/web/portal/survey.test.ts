import t from 'tap'
import { listOutbox } from '../../../src/data/outbox.js'
import { findSurveyByTicket } from '../../../src/data/surveys.js'
import { surveyPass } from '../../../src/domain/survey.js'
import { testApp, testClock } from '../../helpers/app.js'
import { closedByBob, openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor } from '../../helpers/visitor.js'

const day = 86400_000

t.test('a rating can be changed for 7 days after it was given, then it is refused', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const ticket = await closedByBob(app, desk)
  // Grace reads it on her ticket page, through her private link.
  const grace = new Visitor(app)
  const page = await grace.get(`/tickets/${ticket.number}/access/${ticket.token}`)
  t.equal(page.$('.steps li').last().text().trim(), 'Follow-up', 'the step indicator gains its last step')
  const great = page.$('a:contains("Great")').attr('href')!
  t.equal(great, `/tickets/${ticket.number}/survey?rating=great`)
  let survey = await grace.get(great)
  // Pressing the Great button sends rating=great; the form carries no rating of its own.
  survey = await grace.submit(survey, `form[action="/tickets/${ticket.number}/survey"]`, { rating: 'great' })
  t.match(survey.text, 'Thank you for your answer.')
  t.equal((await findSurveyByTicket(app.db, ticket.id))?.rating, 'great')
  const done = await grace.get(`/tickets/${ticket.number}`)
  t.match(done.$('.steps li').last().text(), '(done)', 'Follow-up is done once rated')

  clock.advance(6 * day)
  survey = await grace.get(`/tickets/${ticket.number}/survey`)
  survey = await grace.submit(survey, `form[action="/tickets/${ticket.number}/survey"]`, { rating: 'okay' })
  t.match(survey.text, 'Thank you for your answer.')
  t.equal((await findSurveyByTicket(app.db, ticket.id))?.rating, 'okay', 'changed on day 6')
  const same = await grace.submit(survey, `form[action="/tickets/${ticket.number}/survey"]`, { rating: 'okay' })
  t.match(same.text, 'nothing changed', 'the same answer again is calm')

  clock.advance(1 * day + 60_000)
  const late = await grace.post(`/tickets/${ticket.number}/survey`, new URLSearchParams({ _csrf: survey.$('input[name=_csrf]').attr('value')!, rating: 'not_good', comment: '' }).toString(),
    { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(late.status, 409)
  t.match(late.text, 'that time has passed')
  t.equal((await findSurveyByTicket(app.db, ticket.id))?.rating, 'okay', 'refused after 7 days')
  t.equal((await grace.get(`/tickets/${ticket.number}/survey`)).$('form button[name=rating]').length, 0, 'and no longer offered')

  const stranger = new Visitor(app)
  t.equal((await stranger.get(`/tickets/${ticket.number}/survey`)).status, 404, 'without the private link there is no survey')
  t.equal((await stranger.get(`/survey/${'x'.repeat(43)}`)).status, 404, 'nor with a made-up token')
})

t.test('with a delay the survey waits for the pass, which sends it once; a client confirming gets it by mail; off sends nothing', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  let settings = await ada.get('/staff/admin/settings')
  settings = await ada.submit(settings, 'form[action="/staff/admin/settings"]', { surveyDelayHours: '24' })
  t.match(settings.text, 'Settings saved.')

  const ticket = await closedByBob(app, desk)
  t.equal((await findSurveyByTicket(app.db, ticket.id))?.invited_at, null, 'the survey waits')
  const surveyMails = async (): Promise<number> => (await listOutbox(app.db, { toAddress: 'grace@example.com' })).filter((m) => m.template === 'survey_invitation').length
  const closedNotice = (await listOutbox(app.db, { toAddress: 'grace@example.com' })).find((m) => m.template === 'ticket_closed')
  t.notOk(JSON.parse(closedNotice!.payload).survey, 'the closed notice does not carry it')
  t.equal(await surveyPass(app.db, clock.now()), 0, 'not due yet')
  clock.advance(24 * 3600_000)
  const [first, second] = await Promise.all([surveyPass(app.db, clock.now()), surveyPass(app.db, clock.now())])
  t.equal(first + second, 1, 'two passes at once send it once')
  t.equal(await surveyPass(app.db, clock.now()), 0, 'and a later pass sends nothing more')
  t.equal(await surveyMails(), 1)

  // Resolved, then confirmed by the client: no closed notice, so the survey comes on its own.
  settings = await ada.get('/staff/admin/settings')
  await ada.submit(settings, 'form[action="/staff/admin/settings"]', { surveyDelayHours: '0' })
  const other = await openTicket(app, desk.topics.broken, 'Scanner is slow')
  const bob = (await signIn(app, desk.agents.bob.email)).visitor
  const page = await bob.get(`/staff/tickets/${other.number}`)
  await bob.submit(page, `form[action="/staff/tickets/${other.number}/resolution"]`)
  const grace = new Visitor(app)
  const mine = await grace.get(`/tickets/${other.number}/access/${other.token}`)
  await grace.submit(mine, `form[action="/tickets/${other.number}/closure"]`)
  t.equal(await surveyMails(), 2, 'confirming sends the survey at once')

  settings = await ada.get('/staff/admin/settings')
  settings = await ada.submit(settings, 'form[action="/staff/admin/settings"]', { surveyEnabled: 'false' })
  t.equal(settings.$('select[name=surveyEnabled] option[selected]').attr('value'), 'false')
  const third = await closedByBob(app, desk)
  t.notOk(await findSurveyByTicket(app.db, third.id), 'off: no survey')
  const bad = await ada.submit(settings, 'form[action="/staff/admin/settings"]', { surveyDelayHours: 'soon' })
  t.equal(bad.status, 422)
  t.equal(bad.$('input[name=surveyDelayHours]').attr('value'), 'soon', 'bad input keeps the text')
})
