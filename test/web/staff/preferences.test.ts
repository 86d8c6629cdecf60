import t from 'tap'
import { testApp, testClock } from '../../helpers/app.js'
import { password, seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor } from '../../helpers/visitor.js'

const form = 'form[action="/staff/preferences"]'

t.test('an agent changes their name, signature, queue, rows and time zone on the preferences page, and it is logged', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: bob, page: landed } = await signIn(app, desk.agents.bob.email)
  t.equal(landed.$('nav a[href="/staff/preferences"]').text(), 'Preferences', 'the staff header links to the page')

  let page = await bob.get('/staff/preferences')
  t.equal(page.$('#preferences-name').attr('value'), 'Bob Kahn')
  t.equal(page.$('#preferences-timeZone').val(), '', 'no zone of his own: the desk’s')
  page = await bob.submit(page, form, {
    name: 'Bob E. Kahn', signature: 'Bob\r\nSupport team', defaultSignature: 'none', defaultQueue: 'mine', rowsPerPage: '10', timeZone: 'Europe/Berlin', dateStyle: 'day-month'
  })
  t.equal(page.url, '/staff/preferences')
  t.match(page.text, 'Preferences saved.')
  t.equal(page.$('#preferences-timeZone option[selected]').attr('value'), 'Europe/Berlin')
  t.equal(page.$('#preferences-signature').text(), 'Bob\nSupport team')
  const row = await app.db('agents').where({ id: desk.agents.bob.id }).first()
  t.match(row, { name: 'Bob E. Kahn', signature: 'Bob\nSupport team', default_signature: 'none', default_queue: 'mine', time_zone: 'Europe/Berlin', date_style: 'day-month' })
  t.equal(Number(row.rows_per_page), 10)

  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const log = await ada.get('/staff/admin/log?subject=preferences')
  t.match(log.$('tbody tr').first().text(), /Bob E\. Kahn[\s\S]*Agent preferences[\s\S]*changed[\s\S]*Bob Kahn → Bob E\. Kahn/, 'the change is in the admin log, made by Bob')

  page = await bob.submit(await bob.get('/staff/preferences'), form)
  t.match(page.text, 'Nothing had changed.', 'saving again is calm')
  t.equal((await ada.get('/staff/admin/log?subject=preferences')).$('tbody tr').length, 1, 'and logs nothing')

  // A fresh sign-in lands on the queue he chose.
  const again = new Visitor(app)
  const home = await again.submit(await again.get('/staff/login'), 'form[action="/staff/login"]', { email: desk.agents.bob.email, password })
  t.equal(home.url, '/staff/queues/mine', 'after sign-in, his default queue')
})

t.test('changing the e-mail address or password needs the current password', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const { visitor: bobsPhone } = await signIn(app, desk.agents.bob.email)
  let page = await bob.submit(await bob.get('/staff/preferences'), form, { email: 'robert@desk.test' })
  t.equal(page.status, 422)
  t.match(page.$('#preferences-currentPassword-error').text(), 'Enter your current password')
  t.equal(page.$('#preferences-email').attr('value'), 'robert@desk.test', 'the new address is kept')
  page = await bob.submit(page, form, { email: 'robert@desk.test', currentPassword: 'not it at all' })
  t.equal(page.status, 422)
  t.match(page.$('#preferences-currentPassword-error').text(), 'not your current password')
  t.equal(page.$('#preferences-currentPassword').attr('value'), '', 'a password is never sent back')
  page = await bob.submit(page, form, { email: 'ada@desk.test', currentPassword: password })
  t.match(page.$('#preferences-email-error').text(), 'Another agent already has that e-mail address.')
  t.equal((await bobsPhone.get('/staff/queues/open')).status, 200, 'a change of address alone signs no one out')
  page = await bob.submit(page, form, { email: 'Robert@Desk.test', currentPassword: password, newPassword: 'a brand new passphrase', confirmPassword: 'a brand new passphrase' })
  t.match(page.text, 'Preferences saved. With the new password, you were signed out on one other device.')
  t.match((await bobsPhone.get('/staff/queues/open')).url, /^\/staff\/login/, 'the other session ended with the old password')
  t.equal((await bob.get('/staff/queues/open')).status, 200, 'the session that made the change goes on')
  const visitor = new Visitor(app)
  const signedIn = await visitor.submit(await visitor.get('/staff/login'), 'form[action="/staff/login"]', { email: 'robert@desk.test', password: 'a brand new passphrase' })
  t.match(signedIn.url, /^\/staff\/queues\//, 'the new address and password sign in')
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const log = (await ada.get('/staff/admin/log?subject=preferences')).$('tbody tr').first().text()
  t.match(log, /password[\s\S]*unchanged → changed/, 'the log says the password changed')
  t.notMatch(log, 'brand new', 'but never what it is')
})
