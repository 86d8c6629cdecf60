import { join } from 'node:path'
import knex from 'knex'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { Visitor } from '../helpers/visitor.js'

t.test('while another process holds the write lock, a client gets the 503 page and /readyz says so within a second', async (t) => {
  // About a SQLite file's write lock, so on SQLite whichever database the run is for.
  const app = await testApp(t, { DATABASE_URL: '' })
  const client = new Visitor(app)
  const form = await client.get('/tickets/new')

  // Another process (a backup tool, a stuck CLI) holds the database's write lock.
  const other = knex({ client: 'sqlite3', connection: { filename: join(app.config.dataDir, 'tessera.sqlite') }, useNullAsDefault: true, pool: { min: 1, max: 1 } })
  t.teardown(async () => { await other.destroy() })
  const locked = await other.transaction()
  await locked.raw('insert into health_probe (id, checked_at) values (2, 0)')

  let started = Date.now()
  const ready = await app.inject('/readyz')
  const readySeconds = (Date.now() - started) / 1000
  t.equal(ready.statusCode, 503, '/readyz is not ready')
  t.same(ready.json(), { status: 'database not answering', timeoutMs: 900 })
  // Its own limit is 0.9 s; without it the probe would wait out SQLite's 5 s busy timeout.
  t.ok(readySeconds < 4, `and says so in ${readySeconds.toFixed(2)} s`)

  started = Date.now()
  const page = await client.submit(form, 'form[action="/tickets"]', {
    topic: form.$('select[name=topic] option').filter((_, o) => form.$(o).text() === 'Something is broken').attr('value') ?? '',
    name: 'Grace Hopper',
    email: 'grace@example.com',
    subject: 'Printer jams on page two',
    message: 'The second page always jams.'
  })
  t.equal(page.status, 503, 'the form answers 503, not 500')
  t.equal(page.headers['retry-after'], '30')
  t.match(page.text, 'The help desk is briefly unavailable. Please try again in a minute.')
  t.notMatch(page.text, 'Something went wrong')
  t.match(page.headers['content-security-policy'], "default-src 'self'", 'with the usual security headers')
  t.ok(Date.now() - started < 12_000, 'within the busy and acquire timeouts')

  await locked.rollback()
  const again = await app.inject('/readyz')
  t.equal(again.statusCode, 200, 'ready again once the lock is gone')
})

t.test('a full disk (or any failing write) makes /readyz answer 503', async (t) => {
  const app = await testApp(t)
  t.equal((await app.inject('/readyz')).statusCode, 200)
  // The probe's table gone stands for any write the database refuses.
  await app.db.schema.dropTable('health_probe')
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.same(ready.json(), { status: 'database write failed' })
})

t.test('with the database gone, pages that need it answer 503 with Retry-After', async (t) => {
  const app = await testApp(t)
  const client = new Visitor(app)
  const login = await client.get('/staff/login')
  await app.db.destroy()
  const page = await client.submit(login, 'form[action="/staff/login"]', { email: 'ada@desk.test', password: 'correct horse battery' })
  t.equal(page.status, 503)
  t.equal(page.headers['retry-after'], '30')
  t.match(page.text, 'briefly unavailable')
  t.equal((await app.inject('/healthz')).statusCode, 200, 'the process itself still answers')
})
