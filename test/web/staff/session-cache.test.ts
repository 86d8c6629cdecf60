import t from 'tap'
import { deleteAgentSessions } from '../../../src/data/sessions.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'

/*
 * Each instance remembers a signed-in agent's session and roles for a moment, so a staff
 * page costs no read of either. Whatever this instance changes about them counts at once.
 */

t.test('an agent disabled on this instance is signed out on their very next request', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get('/staff/queues/open')).url, '/staff/queues/open')
  t.equal((await bob.get('/staff/queues/mine')).url, '/staff/queues/mine', 'a second page in a row, from what the instance remembers')

  await app.db.transaction(async (trx) => {
    await trx('agents').where({ id: desk.agents.bob.id }).update({ active: false })
    await deleteAgentSessions(trx, desk.agents.bob.id)
  })
  const next = await bob.get('/staff/queues/open')
  t.match(next.url, /^\/staff\/login/, 'the next request goes to sign-in')
})

t.test('a page read while the session was being ended does not keep it alive after the commit', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  let release = (): void => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  let deleted = (): void => {}
  const rowsGone = new Promise<void>((resolve) => { deleted = resolve })
  const ending = app.db.transaction(async (trx) => {
    await deleteAgentSessions(trx, desk.agents.bob.id)
    deleted()
    await held
  })
  await rowsGone
  // SQLite, PostgreSQL and MySQL readers all still see the row until the commit; on
  // databases where the read has to wait for the writer, it is simply answered later.
  const during = bob.get('/staff/queues/open')
  await new Promise((resolve) => setTimeout(resolve, 50))
  release()
  await ending
  await during
  t.match((await bob.get('/staff/queues/open')).url, /^\/staff\/login/, 'after the commit the session is over')
})

t.test('a role taken away on this instance counts on the next request', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const printerJam = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get(`/staff/tickets/${printerJam.number}`)).status, 200)
  await app.db('agent_departments').where({ agent_id: desk.agents.bob.id }).delete()
  t.equal((await bob.get(`/staff/tickets/${printerJam.number}`)).status, 404, 'a ticket out of reach at once')
})

t.test('signing out ends the session at once, even for a copy of the cookie', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const { visitor: bob, page } = await signIn(app, desk.agents.bob.email)
  const cookie = `tessera_staff=${bob.cookie('tessera_staff')!}`
  t.equal((await app.inject({ url: '/staff/queues/open', headers: { cookie } })).statusCode, 200)
  await bob.submit(page, 'form.signout')
  t.equal((await app.inject({ url: '/staff/queues/open', headers: { cookie } })).statusCode, 303)
})
