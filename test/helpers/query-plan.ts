import type { Knex } from 'knex'
import { dialectOfDb } from '../../src/data/database.js'

/** A statement as Knex's query event or `toSQL().toNative()` gives it: the driver's own text. */
export interface NativeQuery { sql: string, bindings: readonly unknown[] }

export interface QueryPlan {
  /** SQLite's EXPLAIN QUERY PLAN rows, PostgreSQL's EXPLAIN (FORMAT JSON), MariaDB's EXPLAIN rows. */
  rows: Array<Record<string, unknown>>
  /** The rows as JSON, for matching index and node names. */
  text: string
}

/**
 * How the database would run a statement, asked the way each one asks. `priceOut` names
 * PostgreSQL planner methods (seqscan, sort, bitmapscan…) switched off for the question:
 * on a test desk of a few thousand rows reading the table is cheapest, and what matters is
 * whether a plan on the index exists.
 */
export async function queryPlan (db: Knex, query: NativeQuery, priceOut: readonly string[] = []): Promise<QueryPlan> {
  const bindings = query.bindings as never[]
  let rows: Array<Record<string, unknown>>
  switch (dialectOfDb(db)) {
    case 'sqlite':
      rows = await db.raw(`explain query plan ${query.sql}`, bindings)
      break
    case 'postgres':
      rows = await db.transaction(async (trx) => {
        for (const method of priceOut) await trx.raw(`set local enable_${method} = off`)
        // The driver's text numbers its parameters ($1, $2…) where Knex's raw takes ?.
        return (await trx.raw(`explain (format json) ${query.sql.replace(/\$\d+/g, '?')}`, bindings)).rows
      })
      break
    case 'mysql':
      rows = (await db.raw(`explain ${query.sql}`, bindings))[0]
  }
  return { rows, text: JSON.stringify(rows) }
}
