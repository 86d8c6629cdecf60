import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { programs, skipWithout } from '../../helpers/programs.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

const skip = skipWithout(programs.java)

t.test('the canned-response, notice, settings and API-key pages are valid HTML in each of their states', { skip }, async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const pages: Record<string, string> = {}
  const keep = (name: string, page: Page, status: number): void => {
    t.equal(page.status, status, `${name}: status ${status}`)
    pages[name] = page.html
  }

  const settings = await ada.get('/staff/admin/settings')
  keep('settings', settings, 200)
  keep('settings with errors', await ada.submit(settings, 'form[action="/staff/admin/settings"]', { name: '', siteUrl: 'nope', reopenDays: 'x' }), 422)
  keep('settings saved', await ada.submit(settings, 'form[action="/staff/admin/settings"]', { name: 'Acme <Support>', intro: 'Hello.\n\nWe are here.', siteUrl: 'https://acme.test/' }), 200)
  keep('portal home with intro and site link', await new Visitor(app).get('/'), 200)

  const canned = await ada.get('/staff/admin/canned')
  keep('canned responses', canned, 200)
  keep('canned response with errors', await ada.submit(canned, 'form[action="/staff/admin/canned"]', { title: '', body: '' }), 422)
  const id = String((await app.db('canned_responses').first('id')).id)
  const edit = await ada.get(`/staff/admin/canned/${id}`)
  keep('canned response edit', edit, 200)
  keep('canned response edit with errors', await ada.submit(edit, `form[action="/staff/admin/canned/${id}"]`, { title: '' }), 422)

  const notices = await ada.get('/staff/admin/notices')
  keep('notices', notices, 200)
  keep('notice turned off', await ada.submit(notices, 'form[action="/staff/admin/notices/new_ticket"]'), 200)
  keep('notices with a problem', await ada.submit(notices, 'form[action="/staff/admin/notices/new_ticket"]', { enabled: 'maybe' }), 422)

  const keys = await ada.get('/staff/admin/api-keys')
  keep('API keys, none yet', keys, 200)
  keep('API key created', await ada.submit(keys, 'form[action="/staff/admin/api-keys"]', { name: 'Mail server' }), 201)
  keep('API key with errors', await ada.submit(keys, 'form[action="/staff/admin/api-keys"]', { name: '' }), 422)
  keep('API keys, one revoked', await ada.submit(await ada.get('/staff/admin/api-keys'), 'form[action$="/revocation"]'), 200)

  await assertValidDocuments(t, pages)
})
