import { existsSync } from 'node:fs'
import { join } from 'node:path'
import knex, { type Knex } from 'knex'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createDatabase } from '../../src/data/database.js'
import { testFolder } from '../helpers/app.js'

type Run = (sql: string, ...rest: unknown[]) => unknown
interface RawConnection { prepare: Run, all: Run, run: Run }

/**
 * The writer's one connection, with the texts it prepared: through prepare(), or through
 * all() and run(), which prepare and finalise a statement for the one query.
 */
async function countPrepares (db: Knex): Promise<{ kept: string[], once: string[] }> {
  const client = db.client as { acquireConnection: () => Promise<RawConnection>, releaseConnection: (conn: RawConnection) => Promise<void> }
  const conn = await client.acquireConnection()
  const prepared = { kept: [] as string[], once: [] as string[] }
  for (const method of ['prepare', 'all', 'run'] as const) {
    const original = conn[method].bind(conn)
    conn[method] = (sql, ...rest) => { prepared[method === 'prepare' ? 'kept' : 'once'].push(sql); return original(sql, ...rest) }
  }
  await client.releaseConnection(conn)
  return prepared
}

// The SQLite desk only: PostgreSQL and MariaDB keep no statements of ours.
t.test('SQLite prepares a statement once and runs it again and again, each run with its own values and results', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: '' }))
  t.teardown(async () => { await db.destroy() })
  await db.schema.createTable('notes', (table) => { table.increments('id'); table.string('text'); table.integer('views') })
  const prepared = await countPrepares(db)

  const ids = []
  for (const text of ['first', 'second', 'third']) ids.push(...await db('notes').insert({ text, views: 0 }))
  t.same(ids, [1, 2, 3], 'each insert answers its own row id, though the statement is shared')
  const changes = []
  for (const id of [1, 2, 2, 9]) changes.push(await db('notes').where({ id }).increment('views', 1))
  t.same(changes, [1, 1, 1, 0], 'and each update its own count of changed rows')
  t.equal(prepared.kept.filter((sql) => /^insert/.test(sql)).length, 1, 'three inserts, one statement prepared')
  t.equal(prepared.kept.filter((sql) => /^update/.test(sql)).length, 1, 'four updates, one statement prepared')

  await db.transaction(async (trx) => {
    t.same(await trx('notes').where({ id: 2 }).first('text', 'views'), { text: 'second', views: 2 }, 'a reused read sees the latest writes')
    await trx('notes').where({ id: 2 }).update({ text: 'changed' })
    t.same(await trx('notes').where({ id: 2 }).first('text', 'views'), { text: 'changed', views: 2 }, 'even within a transaction')
    t.same(await trx('notes').insert({ text: 'fourth', views: 0 }), [4])
    // One connection, one statement, many runs in flight at once: each keeps its own values.
    const texts = await Promise.all([4, 1, 3, 2, 4, 1].map(async (id) => (await trx('notes').where({ id }).first('text'))?.text))
    t.same(texts, ['fourth', 'first', 'third', 'changed', 'fourth', 'first'], 'runs of one statement at once each answer their own row')
  })
  t.equal(prepared.kept.filter((sql) => /^insert/.test(sql)).length, 1, 'a transaction uses the statements its connection keeps')
  t.same(prepared.once, [], 'no query, in a transaction or not, prepared a statement for itself alone')
})

t.test('a statement that fails is reported, not reused, and the connection goes on', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: '' }))
  t.teardown(async () => { await db.destroy() })
  await db.schema.createTable('notes', (table) => { table.increments('id'); table.string('text').notNullable().unique() })

  await t.rejects(db('missing').insert({ text: 'x' }), { code: 'SQLITE_ERROR', message: /no such table: missing/ }, 'a statement that cannot be prepared fails at once')
  await db('notes').insert({ text: 'one' })
  await t.rejects(db('notes').insert({ text: 'one' }), { code: 'SQLITE_CONSTRAINT' }, 'a run that breaks a constraint fails')
  t.same(await db('notes').insert({ text: 'two' }), [2], 'and the same insert runs again afterwards')

  await db.schema.createTable('missing', (table) => { table.increments('id'); table.string('text') })
  t.same(await db('missing').insert({ text: 'x' }), [1], 'a text that failed before is prepared afresh')
  await db.schema.dropTable('missing')
  await t.rejects(db('missing').insert({ text: 'y' }), { message: /no such table: missing/ }, 'a kept statement whose table is gone fails cleanly')
})

t.test('a connection holding hundreds of statements still closes, and old statements make way for new ones', async (t) => {
  const dataDir = testFolder(t)
  const db = createDatabase(loadConfig({ DATA_DIR: dataDir, DATABASE_URL: '' }))
  await db.schema.createTable('notes', (table) => { table.increments('id'); table.integer('n') })
  const prepared = await countPrepares(db)
  const updateUpTo = async (n: number): Promise<number> => await db('notes').whereIn('id', Array.from({ length: n }, (_, i) => i + 1)).update({ n })
  // 300 texts: each IN list of a different length is a statement of its own.
  const changed = []
  for (let n = 1; n <= 300; n++) {
    changed.push(await updateUpTo(n))
    await db('notes').insert({ n })
  }
  t.same(changed, Array.from({ length: 300 }, (_, i) => i), 'each IN list updated every row so far')
  const preparedSoFar = prepared.kept.length
  await updateUpTo(300)
  t.equal(prepared.kept.length, preparedSoFar, 'the latest texts are kept')
  await updateUpTo(1)
  t.equal(prepared.kept.length, preparedSoFar + 1, 'the oldest made way: 300 IN lists are more text than a connection keeps')
  await updateUpTo(7000)
  await updateUpTo(7000)
  t.equal(prepared.kept.length, preparedSoFar + 3, 'a text of over 20,000 characters is prepared for each run, never kept')
  t.equal((await db('notes').count({ count: '*' }).first())?.count, 300, 'every write landed')
  t.ok(existsSync(join(dataDir, 'tessera.sqlite-wal')), 'the write-ahead log is open')
  await db.destroy()
  // SQLite refuses to close a connection that holds statements, and only the last connection
  // to close folds the log into the database and removes it.
  t.notOk(existsSync(join(dataDir, 'tessera.sqlite-wal')), 'closing finalised the kept statements and closed every connection')
})

// SQLite plans a statement when it is prepared: a LIMIT it can see lets it keep only that
// many rows while sorting (a ticket page's statement ran in a third of the time).
t.test('SQLite statements carry their LIMIT and OFFSET in the text, as integers only', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: '' }))
  t.teardown(async () => { await db.destroy() })
  await db.schema.createTable('notes', (table) => { table.increments('id'); table.string('text') })
  await db('notes').insert(['a', 'b', 'c', 'd', 'e'].map((text) => ({ text })))

  const page = db('notes').where('text', '>', 'a').orderBy('id').limit(2).offset(1).select('text')
  t.match(page.toSQL(), { sql: /limit 2 offset 1$/, bindings: ['a'] }, 'the numbers are in the text, the values still bound')
  t.same(await page, [{ text: 'c' }, { text: 'd' }])
  t.same(await db('notes').orderBy('id', 'desc').first('text'), { text: 'e' }, 'first() too')
  await db.transaction(async (trx) => {
    t.same(await trx('notes').orderBy('id').limit(1).offset(4).select('text'), [{ text: 'e' }], 'and in a transaction')
  })
  // Knex makes a limit an integer or ignores it: nothing else can reach the text.
  const hostile = db('notes').limit('1; drop table notes' as unknown as number).select('id')
  t.match(hostile.toSQL().sql, /limit 1$/)
  t.equal((await hostile).length, 1)
  t.equal((await db('notes').count({ n: '*' }).first())?.n, 5, 'the table is still there')
  t.match(db('notes').offset(db.raw('?', [2]) as unknown as number).select('id').toSQL(), { sql: /offset \?$/, bindings: [2] }, 'an offset Knex did not make an integer stays bound')
})

t.test('SQLite inserts several rows as one VALUES list, with conflicts, RETURNING and rows of different columns as Knex means them', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: '' }))
  t.teardown(async () => { await db.destroy() })
  await db.schema.createTable('counts', (table) => {
    table.increments('id'); table.string('name').unique(); table.integer('n').notNullable(); table.string('note').defaultTo('none')
  })
  const rows = [{ name: 'a', n: 1 }, { name: 'b', n: 2, note: 'given' }, { name: 'c', n: 3 }]
  const insert = db('counts').insert(rows).returning(['id', 'name'])
  t.match(insert.toSQL(), {
    sql: 'insert into `counts` (`n`, `name`, `note`) values (?, ?, ?), (?, ?, ?), (?, ?, ?) returning `id`, `name`',
    bindings: [1, 'a', null, 2, 'b', 'given', 3, 'c', null]
  }, 'one list, no `select … union all`; a column a row lacks is NULL, as Knex writes it')
  t.same(await insert, [{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }])

  await db('counts').insert([{ name: 'a', n: 10 }, { name: 'd', n: 4 }]).onConflict('name').ignore()
  t.same(await db('counts').orderBy('id').pluck('n'), [1, 2, 3, 4], 'a conflicting row is skipped, the others go in')
  await db('counts').insert([{ name: 'b', n: 5 }, { name: 'e', n: 6 }]).onConflict('name').merge({ n: db.raw('`counts`.`n` + excluded.`n`') })
  t.same(await db('counts').orderBy('id').select('name', 'n'), [
    { name: 'a', n: 1 }, { name: 'b', n: 7 }, { name: 'c', n: 3 }, { name: 'd', n: 4 }, { name: 'e', n: 6 }
  ], 'a merge adds to the row it meets')
  await db('counts').insert([{ name: 'c', n: 1 }, { name: 'd', n: 1 }]).onConflict('name').merge(['n']).where('counts.n', '>', 3)
  t.same(await db('counts').whereIn('name', ['c', 'd']).orderBy('name').pluck('n'), [3, 1], 'and only where its condition holds')

  const many = Array.from({ length: 1000 }, (_, i) => ({ name: `row ${i}`, n: i }))
  await db('counts').insert(many)
  t.equal((await db('counts').count({ n: '*' }).first())?.n, 1005, 'a thousand rows at once (the old form stopped at 500)')
})

t.test('the writer undoes a statement that fails halfway in memory, and its transaction goes on', async (t) => {
  const db = createDatabase(loadConfig({ DATA_DIR: testFolder(t), DATABASE_URL: '' }))
  t.teardown(async () => { await db.destroy() })
  const [setting] = await db.raw('PRAGMA temp_store') as Array<Record<string, number>>
  t.same(Object.values(setting!), [2], 'statement journals are kept in memory, not in a temporary file each')
  await db.schema.createTable('notes', (table) => { table.increments('id'); table.text('text').unique() })
  await db.transaction(async (trx) => {
    await trx('notes').insert({ text: 'first' })
    // The second statement writes two rows before its third breaks the unique index.
    await t.rejects(trx('notes').insert([{ text: 'second' }, { text: 'third' }, { text: 'first' }]), { code: 'SQLITE_CONSTRAINT' })
    await trx('notes').insert({ text: 'fourth' })
  })
  t.same(await db('notes').orderBy('id').pluck('text'), ['first', 'fourth'], 'the failed statement left nothing; the rest of its transaction committed')
})

t.test('the WAL is copied into the database file beside the writer, a moment after writes, not inside a COMMIT', async (t) => {
  const dir = testFolder(t)
  const db = createDatabase(loadConfig({ DATA_DIR: dir, DATABASE_URL: '' }))
  t.teardown(async () => { await db.destroy() })
  const [setting] = await db.raw('PRAGMA wal_autocheckpoint') as Array<Record<string, number>>
  t.same(Object.values(setting!), [0], 'the writer never checkpoints on its own')
  await db.schema.createTable('notes', (table) => { table.increments('id'); table.text('text') })
  for (let i = 0; i < 50; i++) await db.transaction(async (trx) => { await trx('notes').insert({ text: 'x'.repeat(2000) }) })
  // A connection that reads the database file alone, as if the WAL were gone, finds them
  // once the checkpoint has run (a new one each time: it takes the file to be unchanging).
  const inFile = async (): Promise<number> => {
    const fileOnly = knex({ client: 'sqlite3', connection: { filename: `file:${join(dir, 'tessera.sqlite')}?mode=ro&immutable=1`, flags: ['OPEN_URI'] }, useNullAsDefault: true })
    try {
      const tables = await fileOnly('sqlite_master').where({ name: 'notes' })
      return tables.length === 0 ? 0 : Number((await fileOnly('notes').count({ n: '*' }).first())?.n)
    } finally {
      await fileOnly.destroy()
    }
  }
  // A read that lands while a checkpoint is copying pages may find the file half written
  // (SQLITE_CORRUPT: it was promised an unchanging file): that is "not yet", try again.
  const notYet = (error: { code?: string }): number => { if (error.code === 'SQLITE_CORRUPT') return -1; throw error }
  let found = await inFile().catch(notYet)
  for (let waited = 0; found < 50 && waited < 10_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    found = await inFile().catch(notYet)
  }
  t.equal(found, 50, 'every row is in the database file')
})
