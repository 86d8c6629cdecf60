import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Knex } from 'knex'
import t from 'tap'
import { appendToLock, checkLock, migrationsDir } from '../../scripts/migration-lock.js'
import { loadConfig } from '../../src/config.js'
import { createDatabase, dialectOfDb, migrateToLatest, timeouts } from '../../src/data/database.js'
import { freshDatabaseUrl, testFolder } from '../helpers/app.js'

const beforeEdits = fileURLToPath(new URL('../fixtures/migrations-before-edits/', import.meta.url))

t.test('migrations run up, all the way down, and up again', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: await freshDatabaseUrl(t) }))
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

t.test('migrations run without the statement limit that requests have: an upgrade of a large desk takes minutes', async (t) => {
  const statementMs = timeouts.statementMs
  // 1 ms: nearly every statement of a migration takes longer. The app's own statements are
  // cancelled at that limit; the migrations must not be.
  const config = loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: await freshDatabaseUrl(t) })
  timeouts.statementMs = 1
  const limited = createDatabase(config)
  timeouts.statementMs = statementMs
  t.teardown(async () => { await limited.destroy() })
  await migrateToLatest(limited)
  // Looked at through a connection with the usual limit.
  const db = createDatabase(config)
  t.teardown(async () => { await db.destroy() })
  const [, pending] = await db.migrate.list() as [unknown[], unknown[]]
  t.equal(pending.length, 0, 'every migration ran')
  t.ok(await db.schema.hasTable('tickets'))
})

t.test('PostgreSQL connections neither compile statements (JIT) nor start parallel workers, which cost more than the statements they would speed up', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: await freshDatabaseUrl(t) }))
  t.teardown(async () => { await db.destroy() })
  if (dialectOfDb(db) !== 'postgres') {
    t.pass('only PostgreSQL compiles statements')
    return
  }
  const setting = async (name: string): Promise<string> => Object.values((await db.raw(`show ${name}`) as { rows: Array<Record<string, string>> }).rows[0]!)[0]!
  t.equal(await setting('jit'), 'off')
  t.equal(await setting('max_parallel_workers_per_gather'), '0')
})

t.test('landed migrations are locked: an edit, a removal or an unlocked file fails here', async (t) => {
  const problems = checkLock()
  t.same(problems.changed, [], `landed migrations must not change; write a new migration instead (changed: ${problems.changed.join(', ')})`)
  t.same(problems.missing, [], 'landed migrations must not be removed')
  t.same(problems.unlocked, [], `new migrations must be locked before they land: run npm run migrations:lock (unlocked: ${problems.unlocked.join(', ')})`)
})

t.test('the lock only grows: the script appends new migrations and refuses to bless an edit', async (t) => {
  const dir = testFolder(t, {
    '20260101000000_first.ts': 'export async function up () {}\n',
    '20260101000100_second.ts': 'export async function up () {}\n'
  })
  const lock = join(dir, 'landed.sha256')
  t.same(appendToLock(dir, lock), ['20260101000000_first.ts', '20260101000100_second.ts'])
  const before = readFileSync(lock, 'utf8')
  t.same(checkLock(dir, lock), { changed: [], missing: [], unlocked: [] })

  writeFileSync(join(dir, '20260101000200_third.ts'), 'export async function up () {}\n')
  t.same(checkLock(dir, lock).unlocked, ['20260101000200_third.ts'], 'a new migration is reported as unlocked')
  t.same(appendToLock(dir, lock), ['20260101000200_third.ts'])
  t.ok(readFileSync(lock, 'utf8').startsWith(before), 'earlier lines are kept as they were')

  writeFileSync(join(dir, '20260101000000_first.ts'), 'export async function up () { /* edited */ }\n')
  t.same(checkLock(dir, lock).changed, ['20260101000000_first.ts'], 'an edited migration is caught')
  t.throws(() => appendToLock(dir, lock), /write a new migration/)
})

t.test('a database migrated before two migrations were edited is brought to today\'s shape', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: await freshDatabaseUrl(t) }))
  t.teardown(async () => { await db.destroy() })

  // The migrations as they were when such a database ran them: the two edited files in
  // their first landed text, the others as they are.
  const landed = ['20261126210000_initial_schema', '20261126210100_default_catalog', '20261126213000_staff_panel', '20261126213100_default_canned_responses', '20261126220000_outbox_leases', '20261126230000_mail']
  const before: Knex.MigrationSource<string> = {
    getMigrations: async () => landed,
    getMigrationName: (name) => name,
    getMigration: async (name) => {
      const old = join(beforeEdits, `${name}.ts`)
      return await import(pathToFileURL(existsSync(old) ? old : join(migrationsDir, `${name}.ts`)).href) as Knex.Migration
    }
  }
  await db.migrate.latest({ migrationSource: before, tableName: 'knex_migrations' })
  const support = await db('departments').where({ name: 'Support' }).first('id') as { id: number }
  await db('departments').where({ id: support.id }).update({ email: 'support@desk.test' })
  t.notOk(await db.schema.hasTable('department_addresses'), 'the old shape: no department_addresses')

  await migrateToLatest(db)
  t.same(await db('department_addresses').select('department_id', 'address'), [{ department_id: support.id, address: 'support@desk.test' }], 'the address moved over')

  if (dialectOfDb(db) === 'mysql') {
    const [rows] = await db.raw("select table_name as t, column_name as c, data_type as type from information_schema.columns where table_schema = database() and table_name in ('thread_entries', 'outbox') and column_name in ('body', 'original_body', 'payload') order by table_name, column_name") as [Array<{ t: string, c: string, type: string }>]
    t.same(rows.map((row) => `${row.t}.${row.c} ${row.type}`), ['outbox.payload mediumtext', 'thread_entries.body mediumtext', 'thread_entries.original_body mediumtext'])
  }
  await migrateToLatest(db)
  t.pass('running it again on today\'s shape changes nothing')
})

t.test('on a database created today the catch-up migration is a no-op', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: await freshDatabaseUrl(t) }))
  t.teardown(async () => { await db.destroy() })
  await migrateToLatest(db)
  t.same(await db('department_addresses').select('id'), [])
})
