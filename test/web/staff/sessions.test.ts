import { createHash } from 'node:crypto'
import t from 'tap'
import { loadConfig } from '../../../src/config.js'
import { createDatabase, migrateToLatest } from '../../../src/data/database.js'
import { freshDatabaseUrl, testApp, testFolder } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex')

/** The session id inside a `tessera_staff` cookie (`<id>.<signature>`, URL-encoded). */
const sessionIdOf = (cookie: string): string => decodeURIComponent(cookie).split('.')[0]!

t.test('the database holds only hashes of session ids, each with its agent', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const ids = [bob, ada].map((v) => sessionIdOf(v.cookie('tessera_staff')!))

  const rows: Array<{ sid: string, data: string, agent_id: number | null }> = await app.db('sessions').select('sid', 'data', 'agent_id')
  t.equal(rows.length, 2)
  for (const id of ids) {
    t.notOk(rows.some((row) => row.sid.includes(id) || row.data.includes(id)), 'no cookie’s session id is stored')
  }
  t.same(rows.map((row) => row.sid).sort(), ids.map(sha256).sort(), 'what is stored is the SHA-256 of each id')
  t.same(rows.map((row) => row.agent_id).sort(), [desk.agents.bob.id, desk.agents.ada.id].sort(), 'each row names its agent')

  t.equal((await bob.get('/staff/queues/open')).status, 200, 'the cookie still opens the panel')
  t.equal((await app.inject({ url: '/staff/queues/open', headers: { cookie: `tessera_staff=${encodeURIComponent(rows[0]!.sid)}` } })).statusCode, 303,
    'what is read from the table is no use as a cookie')
})

t.test('sessions stored before ids were hashed are hashed in place and keep their agent', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: await freshDatabaseUrl(t) }))
  t.teardown(async () => { await db.destroy() })
  // Up to the migration that gives sessions their owner, not the one that hashes the ids.
  while (true) {
    const [done] = await db.migrate.list() as [Array<{ name: string } | string>, unknown[]]
    if (done.map((m) => typeof m === 'string' ? m : m.name).includes('20261130100000_session_owner')) break
    await db.migrate.up()
  }
  const expires = Date.now() + 60_000
  await db('sessions').insert([
    { sid: 'raw-session-id-of-bob-0123456789', data: JSON.stringify({ cookie: {}, agentId: 7 }), expires_at: expires },
    { sid: 'raw-session-id-without-agent-xyz', data: JSON.stringify({ cookie: {} }), expires_at: expires }
  ])
  await migrateToLatest(db)
  const rows = await db('sessions').orderBy('agent_id').select('sid', 'agent_id')
  t.same(rows.map((r) => ({ sid: r.sid, agent: r.agent_id })).sort((a, b) => (a.agent ?? 0) - (b.agent ?? 0)), [
    { sid: sha256('raw-session-id-without-agent-xyz'), agent: null },
    { sid: sha256('raw-session-id-of-bob-0123456789'), agent: 7 }
  ])
})

t.test('signing out removes the session row', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const { visitor, page } = await signIn(app, desk.agents.bob.email)
  t.equal((await app.db('sessions').where({ agent_id: desk.agents.bob.id })).length, 1)
  await visitor.submit(page, 'form.signout')
  t.equal((await app.db('sessions')).length, 0)
})
