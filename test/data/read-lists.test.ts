import t from 'tap'
import { listOf, readList, readLists } from '../../src/data/database.js'
import { ticketColumns } from '../../src/data/tickets.js'
import { testApp } from '../helpers/app.js'

// On SQLite readLists reads each list as one JSON text, several in one statement; it must hand back exactly what the
// rows themselves hold, in the query's order, on every database.
t.test('a list read whole has the same rows, values and order as the query itself', async (t) => {
  const app = await testApp(t)
  const db = app.db
  await db.schema.createTable('read_rows_sample', (table) => {
    table.increments('id')
    table.text('label')
    table.bigInteger('at')
    table.integer('rank')
  })
  const labels = ['plain', 'quotes " and \' and \\ backslash', 'line\nbreak\ttab', 'émoji 🎫 and ü', '{"looks": "like json"}', '', null, '<b>&amp;</b>', '\u2028 separator']
  await db('read_rows_sample').insert(labels.map((label, i) => ({ label, at: 1_790_000_000_000 + i, rank: (i * 7) % 5 })))
  const query = (): ReturnType<typeof db.from> => db('read_rows_sample as s').leftJoin('read_rows_sample as o', 'o.id', db.raw('s.id + 1'))
    .select('s.id', 's.label', 's.at', 's.rank', 'o.label as next_label').orderBy([{ column: 's.rank', order: 'desc' }, { column: 's.id', order: 'asc' }])

  const direct = await query()
  const columns = ['id', 'label', 'at', 'rank', 'next_label']
  const read = await readList(db, listOf<{ id: number, at: number }>(query(), columns))
  t.same(read, direct, 'every value as the database holds it, nulls and all, in the order asked for')
  t.strictSame(read.map((row) => typeof row.at), direct.map(() => 'number'), 'times stay numbers')
  t.same(read.map((row) => row.id), [3, 8, 5, 2, 7, 4, 9, 1, 6], 'rank first, then id')
  t.same(await readList(db, listOf(query().where('s.id', '<', 0), ['id'])), [], 'and no rows is an empty list')
  if (db.client.config.client === 'sqlite3') {
    await t.rejects(readList(db, listOf(query(), ["label') from x; --"])), /not a plain column name/, 'a name that is not a plain column name never reaches the SQL text')
  }

  const statements: string[] = []
  const count = (q: { sql: string }): void => { statements.push(q.sql) }
  db.on('query', count)
  const together = await readLists(db, {
    ranked: listOf(query(), columns),
    none: listOf(query().where('s.id', '<', 0), ['id']),
    labels: listOf(query().where('s.rank', 4), ['label'], (rows: Array<{ label: string }>) => rows.map((row) => row.label))
  })
  db.removeListener('query', count)
  t.same(together, { ranked: direct, none: [], labels: [labels[2], labels[7]] }, 'lists read together are each what they are alone, as their own function makes them')
  t.equal(statements.length, db.client.config.client === 'sqlite3' ? 1 : 3, 'in one statement on SQLite')
})

// A column a migration adds to tickets and this list lacks would be missing from every page
// that reads a ticket with its names.
t.test('the ticket columns pages read by name are every column of the tickets table', async (t) => {
  const app = await testApp(t)
  const inTable = Object.keys(await app.db('tickets').columnInfo()).filter((column) => column !== 'search_vector')
  t.same([...ticketColumns].sort(), inTable.sort())
})
