import type { Knex } from 'knex'

/*
 * PostgreSQL: each searched text keeps its tsvector in a stored generated column, indexed
 * by GIN, instead of GIN indexes on the expression. A search ranks the most recent matches
 * (src/data/search.ts), and for a common word the planner reads the rows newest first and
 * tests each one: with the expression, every row tested was folded and parsed again (150 µs
 * for a message), so at a million tickets a word absent from the newest few thousand
 * entries took seconds and ran past the statement timeout. A stored vector is tested in
 * microseconds, and ts_rank reads it instead of parsing the text once more.
 * Rewrites the three tables, which takes minutes on a large desk (migrations run without
 * the requests' statement timeout; see migrateToLatest). Nothing on the other databases.
 */

const searched = [
  { table: 'tickets', expression: 'subject', oldIndex: 'tickets_search' },
  { table: 'requesters', expression: "name || ' ' || email", oldIndex: 'requesters_search' },
  { table: 'thread_entries', expression: 'body', oldIndex: 'thread_entries_search' }
]

function isPostgres (knex: Knex): boolean {
  return String(knex.client.config.client) === 'pg'
}

export async function up (knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return
  for (const { table, expression, oldIndex } of searched) {
    await knex.raw(`alter table ${table} add column search_vector tsvector generated always as (to_tsvector('simple'::regconfig, tessera_fold(${expression}))) stored`)
    await knex.raw(`create index ${table}_search_vector on ${table} using gin (search_vector)`)
    await knex.raw(`drop index if exists ${oldIndex}`)
  }
}

export async function down (knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return
  for (const { table, expression, oldIndex } of searched) {
    await knex.raw(`create index ${oldIndex} on ${table} using gin (to_tsvector('simple'::regconfig, tessera_fold(${expression})))`)
    await knex.raw(`alter table ${table} drop column search_vector`)
  }
}
