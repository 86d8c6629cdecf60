import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createDatabase, migrateToLatest } from '../../src/data/database.js'
import { freshDatabaseUrl } from '../helpers/app.js'

t.test('migrations run up, all the way down, and up again', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: t.testdir({}), DATABASE_URL: await freshDatabaseUrl(t) }))
  t.teardown(async () => { await db.destroy() })

  await migrateToLatest(db)
  const [, pending] = await db.migrate.list() as [unknown[], unknown[]]
  t.equal(pending.length, 0, 'all migrations applied')
  t.ok(await db.schema.hasTable('tickets'))
  t.equal((await db('help_topics').select('id')).length, 4, 'the default catalog is there')

  await migrateToLatest(db)
  t.pass('running them again is harmless')

  await db.migrate.rollback(undefined, true)
  for (const table of ['tickets', 'departments', 'outbox', 'sessions', 'canned_responses']) {
    t.notOk(await db.schema.hasTable(table), `${table} is gone after rolling back`)
  }

  await migrateToLatest(db)
  t.ok(await db.schema.hasTable('tickets'), 'and back up again')
  t.equal((await db('canned_responses').select('id')).length, 3)
})
