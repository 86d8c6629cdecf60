import t from 'tap'
import type { Knex } from 'knex'
import type { TicketRow } from '../../src/data/tickets.js'
import { dialectOfDb, isDatabaseUnavailable, transactionRetryingDeadlocks } from '../../src/data/database.js'
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
  await t.rejects(transactionRetryingDeadlocks(db, async () => { runs++; throw deadlock() }, { attempts: 3 }), { code: 'ER_LOCK_DEADLOCK' })
  t.equal(runs, 3, 'three deadlocks in a row reach the caller')
  t.ok(isDatabaseUnavailable(deadlock()), 'who then answers that the desk is busy (503), not that something broke')
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

/**
 * Resolves once a transaction waits for a row lock `holder` holds. Only for its locks: test
 * files running beside this one share the server, and their waits are none of this test's.
 */
async function someoneWaitsForALockOf (db: Knex, holder: Knex.Transaction): Promise<void> {
  const postgres = dialectOfDb(db) === 'postgres'
  const [session] = await holder.select(holder.raw(postgres ? 'pg_backend_pid() as id' : 'connection_id() as id')) as Array<{ id: number | string }>
  const waiting = (): Knex.QueryBuilder => postgres
    ? db('pg_stat_activity').whereRaw('? = any(pg_blocking_pids(pid))', [Number(session!.id)])
    : db('information_schema.innodb_lock_waits as w').join('information_schema.innodb_trx as b', 'b.trx_id', 'w.blocking_trx_id')
      .where('b.trx_mysql_thread_id', Number(session!.id))
  for (let tries = 0; tries < 100; tries++) {
    const [row] = await waiting().count({ n: '*' })
    if (Number(row?.n) > 0) return
    // InnoDB refreshes innodb_trx only when it was last read over 100 ms ago.
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
  throw new Error('nobody came to wait for a lock')
}

// A merge locks its ticket, then the target; another transaction holds the target and then
// asks for the ticket. The server breaks the deadlock by rolling one back: the merge, which
// has written less (MariaDB weighs that) and waited first (PostgreSQL checks it first).
t.test('a ticket verb chosen as a deadlock victim runs again and is recorded once', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const db = app.db
  if (dialectOfDb(db) === 'sqlite') {
    t.pass('SQLite writes one transaction at a time: there is no deadlock to break')
    return
  }
  const open = async (subject: string): Promise<TicketRow> =>
    (await app.lifecycle.openTicket({ name: 'Grace Hopper', email: 'grace@example.com', subject, message: `About ${subject}`, helpTopicId: 1 })).ticket
  const merged = await open('Printer jam')
  const target = await open('Printer jam again')
  await db.schema.createTable('deadlock_ballast', (table) => { table.increments('id'); table.integer('n') })

  const other = await db.transaction()
  await other('deadlock_ballast').insert(Array.from({ length: 50 }, (_, n) => ({ n })))
  await other('tickets').where({ id: target.id }).forUpdate().select('id')
  const merging = app.lifecycle.mergeTicket(merged, { kind: 'system' }, { target })
  merging.catch(() => undefined)
  await someoneWaitsForALockOf(db, other)
  // Closes the circle: the server rolls the merge back, and this gets the ticket's row.
  await other('tickets').where({ id: merged.id }).forUpdate().select('id')
  await other.commit()

  const closed = await merging
  t.equal(closed.merged_into_id, target.id, 'the merge went through on its second run')
  const events = await db('events').whereIn('type', ['merged', 'merged_in']).orderBy('id').select('ticket_id', 'type')
  t.same(events, [{ ticket_id: merged.id, type: 'merged' }, { ticket_id: target.id, type: 'merged_in' }], 'each event once')
  t.equal(Number((await db('thread_entries').where({ ticket_id: target.id }).count({ n: '*' }))[0]!.n), 2, 'the thread moved once')
  t.equal(Number((await db('deadlock_ballast').count({ n: '*' }))[0]!.n), 50, 'the other transaction committed too')
})
