import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { programs, skipWithout } from '../../helpers/programs.js'
import type { Page } from '../../helpers/visitor.js'

const skip = skipWithout(programs.java)

t.test('the preferences page, the signature forms and the reply form with its signature choice are valid HTML', { skip }, async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const pages: Record<string, Page> = {}
  const keep = (name: string, page: Page, status: number): void => {
    t.equal(page.status, status, `${name}: status ${status}`)
    pages[name] = page
  }
  const preferences = await ada.get('/staff/preferences')
  keep('preferences', preferences, 200)
  keep('preferences with errors', await ada.submit(preferences, 'form[action="/staff/preferences"]', { name: '', email: 'x', rowsPerPage: '1', awayUntil: 'soon', timeZone: 'Nowhere' }), 422)
  keep('preferences saved', await ada.submit(preferences, 'form[action="/staff/preferences"]', { timeZone: 'Europe/Berlin', signature: 'Ada' }), 200)
  const department = `/staff/admin/departments/${desk.departments.support}`
  keep('department with its signature', await ada.get(department), 200)
  keep('department signature too long', await ada.submit(await ada.get(department), `form[action="${department}/signature"]`, { signature: 's'.repeat(2001) }), 422)
  const ticket = await openTicket(app, desk.topics.broken)
  keep('ticket with the signature choice', await ada.get(`/staff/tickets/${ticket.number}`), 200)
  await assertValidDocuments(t, Object.fromEntries(Object.entries(pages).map(([name, page]) => [name, page.html])))
})
