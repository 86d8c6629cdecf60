import t from 'tap'
import type { Knex } from 'knex'
import { listOf, preparedRead, preparedReadChecks, readLists, type Db } from '../../src/data/database.js'
import { testApp } from '../helpers/app.js'

interface Row { id: number, label: string, owner: number | null }

async function sampleTable (db: Knex): Promise<void> {
  await db.schema.createTable('prepared_sample', (table) => {
    table.increments('id')
    table.text('label')
    table.integer('owner').nullable()
  })
  await db('prepared_sample').insert([
    { label: 'a', owner: 1 }, { label: 'b', owner: 2 }, { label: 'c', owner: null }, { label: 'd', owner: 2 }, { label: 'e', owner: 3 }
  ])
}

// A type, not an interface: only a type alias fits the index signature of ReadValues.
type Filter = { labels: readonly string[], owner: number | null, newest: boolean }

/** The query the prepared read stands for, built with the real values every time. */
function plain (db: Db, { labels, owner, newest }: Filter): Knex.QueryBuilder {
  const query = db('prepared_sample').select('id', 'label', 'owner').orderBy('id', newest ? 'desc' : 'asc').limit(3)
  if (labels.length > 0) query.whereIn('label', labels)
  if (owner === null) query.whereNull('owner')
  else query.where('owner', owner)
  return query
}

t.test('a prepared read answers what its query built afresh answers, and Knex writes its SQL once for each shape of its values', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await sampleTable(app.db)
  // Counted without the tests' own check, which builds the query again on every call.
  preparedReadChecks.on = false
  t.teardown(() => { preparedReadChecks.on = true })
  let builds = 0
  const read = preparedRead((db, filter: Filter) => { builds++; return plain(db, filter) })

  const cases: Filter[] = [
    { labels: ['a', 'b', 'd'], owner: 2, newest: false },
    { labels: ['a', 'e', 'c'], owner: 3, newest: false },
    { labels: ['b'], owner: 2, newest: false },
    { labels: [], owner: null, newest: false },
    { labels: [], owner: 2, newest: true },
    { labels: ['c', 'd'], owner: null, newest: true },
    { labels: ['a', 'b', 'd'], owner: 1, newest: false }
  ]
  for (const filter of cases) {
    t.same(await read(app.db, filter), await plain(app.db, filter), `the same rows for ${JSON.stringify(filter)}`)
  }
  t.equal(builds, 5, 'five shapes among the seven calls (three labels and an owner, three times), each written once')

  // The list lengths, nulls and booleans of the values are their shape; strings and numbers are bound.
  const rows = await read(app.db, { labels: ['zzz', 'e', 'a'], owner: 3, newest: false }) as Row[]
  t.same(rows.map((row) => row.label), ['e'], 'a call of a known shape binds its own values')
  t.equal(builds, 5)
})

t.test('a prepared read runs in the transaction it is given, and with other lists in one statement on SQLite', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await sampleTable(app.db)
  const read = preparedRead((db, filter: Filter) => plain(db, filter))
  const byOwner = (owner: number): Filter => ({ labels: [], owner, newest: false })

  await app.db.transaction(async (trx) => {
    await trx('prepared_sample').insert({ label: 'uncommitted', owner: 9 })
    t.same((await read(trx, byOwner(9)) as Row[]).map((row) => row.label), ['uncommitted'], 'the transaction sees its own row')
    throw new Error('roll back')
  }).catch(() => {})
  t.same(await read(app.db, byOwner(9)), [], 'and after the rollback nobody does')

  const statements: string[] = []
  const count = (query: { sql: string }): void => { statements.push(query.sql) }
  app.db.on('query', count)
  const lists = await readLists(app.db, {
    prepared: listOf(read(app.db, byOwner(2)), ['id', 'label', 'owner']),
    built: listOf(plain(app.db, byOwner(1)), ['label'], (rows: Array<{ label: string }>) => rows.map((row) => row.label))
  })
  app.db.removeListener('query', count)
  t.same(lists, { prepared: await plain(app.db, byOwner(2)), built: ['a'] }, 'each list as it is alone')
  t.equal(statements.length, app.db.client.config.client === 'sqlite3' ? 1 : 2)
})

t.test('a build that does more with a value than bind it fails in the tests instead of binding the wrong thing', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await sampleTable(app.db)

  const textFromValue = preparedRead((db, { owner }: { owner: number }) => db('prepared_sample').whereRaw(`owner = ${owner}`).select('id'))
  await t.rejects(async () => await textFromValue(app.db, { owner: 2 }), /a value went into the SQL text/)

  const arithmetic = preparedRead((db, { owner }: { owner: number }) => db('prepared_sample').where('owner', owner + 1).select('id'))
  await t.rejects(async () => await arithmetic(app.db, { owner: 1 }), /a value was changed before it was bound/)

  // A test of a value sees a stand-in once, then real values: only building afresh can tell.
  const branching = preparedRead((db, { owner }: { owner: number }) => {
    const query = db('prepared_sample').select('id')
    return owner > 2 ? query.where('owner', '>', owner) : query.where('owner', owner)
  })
  await t.rejects(async () => await branching(app.db, { owner: 3 }), /differs from the query built afresh/)

  const notARead = preparedRead((db, { label }: { label: string }) => db('prepared_sample').insert({ label }) as unknown as Knex.QueryBuilder)
  await t.rejects(async () => await notARead(app.db, { label: 'x' }), /is not a read/)
  t.equal(Number((await app.db('prepared_sample').count({ n: '*' }))[0]?.n), 5, 'nothing was written')

  const dated = preparedRead((db, { at }: { at: number }) => db('prepared_sample').where('id', at).select('id'))
  await t.rejects(async () => await dated(app.db, { at: new Date() as unknown as number }), /values hold only strings, numbers/)
})
