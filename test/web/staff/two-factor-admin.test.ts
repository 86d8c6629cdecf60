import t from 'tap'
import { testApp, testClock } from '../../helpers/app.js'
import { codeAt, passwordStep } from '../../helpers/two-factor.js'
import { password, seedDesk, signIn } from '../../helpers/fixtures.js'

t.test('an administrator requires two-factor sign-in and resets an agent\'s', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  let page = await ada.get('/staff/admin/two-factor')
  page = await ada.submit(page, 'form[action="/staff/admin/two-factor"]', { required: 'sometimes' })
  t.equal(page.status, 422, 'a choice not offered is refused')
  t.match(page.$('#two-factor-required-error').text(), 'Choose one of the options listed.')
  page = await ada.submit(page, 'form[action="/staff/admin/two-factor"]', { required: 'everyone' })
  t.match(page.$('[role=status]').text(), 'Saved.')

  const step = await passwordStep(app, desk.agents.bob.email)
  t.equal(step.page.url, '/staff/account/two-factor', 'Bob, without two-factor sign-in, is led to set it up first')
  t.match(step.page.text, 'This desk requires two-factor sign-in.')
  page = await step.visitor.get('/staff/queues/open')
  t.equal(page.url, '/staff/account/two-factor', 'every other page waits')
  const secret = page.$('.totp-secret').text().replace(/\s/g, '')
  page = await step.visitor.submit(page, 'form[action="/staff/account/two-factor"]', { code: codeAt(secret, clock.now()) })
  t.equal(page.status, 201)
  page = await step.visitor.get('/staff/queues/open')
  t.equal(page.status, 200, 'once set up, the panel opens')
  t.equal(page.url, '/staff/queues/open')
  page = await step.visitor.get('/staff/account/two-factor')
  page = await step.visitor.submit(page, 'form[action="/staff/account/two-factor/removal"]', { password, code: 'abcde-fghjk' })
  t.equal(page.status, 422, 'required, it cannot be turned off')

  page = await ada.get('/staff/admin/two-factor')
  page = await ada.submit(page, 'form:has(button[aria-label="Reset two-factor sign-in of Bob Kahn"])')
  t.match(page.$('[role=status]').text(), 'Two-factor sign-in is off for that agent')
  t.equal(await app.twoFactor.isEnabled(desk.agents.bob.id), false)
  const logged = await app.db('admin_events').whereIn('subject_type', ['two_factor', 'setting']).orderBy('id').select('subject_type', 'action')
  t.same(logged, [{ subject_type: 'setting', action: 'changed' }, { subject_type: 'two_factor', action: 'reset' }], 'both changes are in the admin log')
  t.equal((await passwordStep(app, desk.agents.bob.email)).page.url, '/staff/account/two-factor', 'still required, so Bob sets it up again')
})
