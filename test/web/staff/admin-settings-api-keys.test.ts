import t from 'tap'
import { testApp, testClock } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { plainMessage, postMail } from '../../helpers/mail.js'

t.test('an API key is shown once, stored hashed, shows when it was last used and stops working when revoked', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  let page = await ada.get('/staff/admin/api-keys')
  t.match(page.text, 'No API keys yet.')
  page = await ada.submit(page, 'form[action="/staff/admin/api-keys"]', { name: 'Mail server' })
  t.equal(page.status, 201)
  t.equal(page.headers['cache-control'], 'no-store', 'the page with the key is kept in no cache')
  const key = page.$('code.api-key').text()
  t.match(key, /^tsk_[A-Za-z0-9_-]{32}$/, 'the key is shown')
  const stored = await app.db('api_keys').first()
  t.not(stored.key_hash, key, 'stored only as a hash')
  t.equal(stored.scope, 'mail_intake')

  page = await ada.get('/staff/admin/api-keys')
  t.notMatch(page.html, key, 'and never shown again')
  t.match(page.$('tbody tr').first().text(), /Mail server[\s\S]*Mail intake[\s\S]*Never[\s\S]*Active/)

  const first = await postMail(app, plainMessage({}), key)
  t.equal(first.status, 201, 'the key lets mail in')
  const usedAt = Number((await app.db('api_keys').first('last_used_at')).last_used_at)
  t.equal(usedAt, clock.now(), 'its use is recorded')
  clock.advance(30_000)
  await postMail(app, plainMessage({}), key)
  t.equal(Number((await app.db('api_keys').first('last_used_at')).last_used_at), usedAt, 'within the minute, not again')
  clock.advance(31_000)
  await postMail(app, plainMessage({}), key)
  t.equal(Number((await app.db('api_keys').first('last_used_at')).last_used_at), clock.now(), 'a minute later, again')
  page = await ada.get('/staff/admin/api-keys')
  t.notMatch(page.$('tbody tr').first().text(), 'Never')

  page = await ada.submit(page, 'form[action$="/revocation"]')
  t.match(page.text, 'The key is revoked')
  t.match(page.$('tbody tr').first().text(), 'Revoked')
  t.equal((await postMail(app, plainMessage({}), key)).status, 401, 'a revoked key stops working at once')

  const log = await ada.get('/staff/admin/log?subject=api_key')
  t.match(log.text, /revoked[\s\S]*Mail server[\s\S]*created[\s\S]*Mail server[\s\S]*mail_intake/, 'creation and revocation are logged')
  t.notMatch(log.html, key.slice(4), 'without the key')
  const events = await app.db('admin_events').where({ subject_type: 'api_key' }).select('before_state', 'after_state')
  t.notMatch(JSON.stringify(events), key.slice(4))
})

t.test('bad input on the API key form gets 422 with the text kept', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const form = 'form[action="/staff/admin/api-keys"]'
  let page = await ada.submit(await ada.get('/staff/admin/api-keys'), form, { name: '  ' })
  t.equal(page.status, 422)
  t.match(page.$('#api-key-name-error').text(), 'Give the key a name')
  page = await ada.submit(await ada.get('/staff/admin/api-keys'), form, { name: 'n'.repeat(121) })
  t.equal(page.status, 422)
  t.equal(page.$('#api-key-name').attr('value'), 'n'.repeat(121), 'the text is kept')
  page = await ada.submit(await ada.get('/staff/admin/api-keys'), form, { name: 'Reporting <script>', scope: 'everything' })
  t.equal(page.status, 422)
  t.match(page.$('#api-key-scope-error').text(), 'Choose one of the uses listed.')
  t.equal(page.$('#api-key-name').attr('value'), 'Reporting <script>')
  t.equal(await app.db('api_keys').count({ n: '*' }).first().then((r) => Number(r?.n)), 0, 'no key was made')
  const csrf = page.$(`${form} input[name="_csrf"]`).attr('value')!
  const revoke = await ada.post('/staff/admin/api-keys/99999/revocation', `_csrf=${csrf}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(revoke.status, 404, 'an unknown key is not found')
})
