import t from 'tap'
import { testApp, testClock } from '../../helpers/app.js'
import { password, seedDesk, signIn } from '../../helpers/fixtures.js'

const form = 'form[action="/staff/preferences"]'

t.test('bad preferences get 422 with the text kept and each message beside its field', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ name: '   ' }, 'name', /Enter your name/],
    [{ name: 'x'.repeat(121) }, 'name', /120 characters or fewer/],
    [{ email: '' }, 'email', /Enter your e-mail address/],
    [{ email: 'bob at desk' }, 'email', /like name@example.com/],
    [{ signature: 's'.repeat(2001) }, 'signature', /2000 characters or fewer/],
    [{ defaultSignature: 'someone else’s' }, 'defaultSignature', /Choose my signature/],
    [{ defaultQueue: 'constructor' }, 'defaultQueue', /queues listed/],
    [{ rowsPerPage: '5' }, 'rowsPerPage', /10 to 200/],
    [{ rowsPerPage: 'many' }, 'rowsPerPage', /10 to 200/],
    [{ rowsPerPage: '9'.repeat(20) }, 'rowsPerPage', /12 characters or fewer/],
    [{ timeZone: 'Mars/Olympus_Mons' }, 'timeZone', /time zone from the list/],
    [{ dateStyle: 'klingon' }, 'dateStyle', /date styles listed/],
    [{ awayUntil: 'next week' }, 'awayUntil', /like 2026-12-24/],
    [{ awayUntil: '2026-02-30' }, 'awayUntil', /like 2026-12-24/],
    [{ awayUntil: '2026-11-26' }, 'awayUntil', /after today/],
    [{ newPassword: 'short', currentPassword: password }, 'newPassword', /at least 10/],
    [{ newPassword: 'a brand new passphrase', confirmPassword: 'another one entirely', currentPassword: password }, 'confirmPassword', /not the same/],
    [{ name: 'Bob\u0000Kahn' }, 'name', /control characters/]
  ]
  for (const [fields, field, message] of cases) {
    const page = await bob.submit(await bob.get('/staff/preferences'), form, { signature: 'Kept <b>signature</b>', ...fields })
    t.equal(page.status, 422, `${JSON.stringify(fields).slice(0, 60)} is refused`)
    t.match(page.$(`#preferences-${field}-error`).text(), message)
    if (field !== 'signature') t.equal(page.$('#preferences-signature').text(), 'Kept <b>signature</b>', 'what was typed stays')
  }
  const malformed = await bob.post('/staff/preferences', 'name[]=1&name[]=2&_csrf=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.ok(malformed.status >= 400 && malformed.status < 500, 'a malformed body is no 500')
  t.equal((await app.db('agents').where({ id: desk.agents.bob.id }).first()).name, 'Bob Kahn', 'nothing was saved')
})
