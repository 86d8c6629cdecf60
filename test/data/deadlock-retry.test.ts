import t from 'tap'
import { dialectOfDb, transactionRetryingDeadlocks } from '../../src/data/database.js'
import { testApp } from '../helpers/app.js'

const deadlock = (): Error => Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 })

t.test('a transaction chosen as a deadlock victim runs again from the start; other errors do not', async (t) => {
  const app = await testApp(t)
  const db = app.db
  await db.schema.createTable('retry_rows', (table) => { table.increments('id'); table.string('attempt') })

  let runs = 0
  const done = await transactionRetryingDeadlocks(db, async (trx) => {
    runs++
    await trx('retry_rows').insert({ attempt: `run ${runs}` })
    if (runs === 1) throw deadlock()
    return 'done'
  })
  t.equal(done, 'done')
  t.equal(runs, 2, 'the victim ran again')
  t.same(await db('retry_rows').pluck('attempt'), ['run 2'], 'what the victim wrote was rolled back; the second run committed')

  runs = 0
  await t.rejects(transactionRetryingDeadlocks(db, async () => { runs++; throw new Error('not a deadlock') }), /not a deadlock/)
  t.equal(runs, 1, 'any other error is not run again')

  runs = 0
  await t.rejects(transactionRetryingDeadlocks(db, async () => { runs++; throw deadlock() }, 3), { code: 'ER_LOCK_DEADLOCK' })
  t.equal(runs, 3, 'three deadlocks in a row reach the caller')
})

// SQLite has one writer and no deadlocks; the servers detect a real one and pick a victim.
t.test('two transactions locking two rows in opposite orders both finish', async (t) => {
  const app = await testApp(t)
  const db = app.db
  if (dialectOfDb(db) === 'sqlite') {
    t.pass('SQLite writes one transaction at a time: there is no deadlock to break')
    return
  }
  await db.schema.createTable('retry_pair', (table) => { table.integer('id').primary(); table.integer('n') })
  await db('retry_pair').insert([{ id: 1, n: 0 }, { id: 2, n: 0 }])
  // Each takes its first row, waits until the other has too, then asks for the other's.
  let bothHoldOne: () => void = () => {}
  const holding = new Promise<void>((resolve) => { let count = 0; bothHoldOne = () => { if (++count === 2) resolve() } })
  let runs = 0
  const crosswise = async (first: number, second: number): Promise<void> => {
    let firstRun = true
    await transactionRetryingDeadlocks(db, async (trx) => {
      runs++
      await trx('retry_pair').where({ id: first }).increment('n', 1)
      if (firstRun) { firstRun = false; bothHoldOne(); await holding }
      await trx('retry_pair').where({ id: second }).increment('n', 1)
    })
  }
  await Promise.all([crosswise(1, 2), crosswise(2, 1)])
  t.equal(runs, 3, 'one of them was the victim and ran again')
  t.same(await db('retry_pair').orderBy('id').pluck('n'), [2, 2], 'both committed, each once')
})
