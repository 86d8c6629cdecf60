import t from 'tap'
import { readRows } from '../../src/data/database.js'
import { testApp } from '../helpers/app.js'

// On SQLite readRows reads a list through one JSON text; it must hand back exactly what the
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
  const read = await readRows(db, query(), ['id', 'label', 'at', 'rank', 'next_label'])
  t.same(read, direct, 'every value as the database holds it, nulls and all, in the order asked for')
  t.strictSame(read.map((row) => typeof (row as { at: unknown }).at), direct.map(() => 'number'), 'times stay numbers')
  t.same(read.map((row) => (row as { id: number }).id), [3, 8, 5, 2, 7, 4, 9, 1, 6], 'rank first, then id')
  t.same(await readRows(db, query().where('s.id', '<', 0), ['id']), [], 'and no rows is an empty list')
})
