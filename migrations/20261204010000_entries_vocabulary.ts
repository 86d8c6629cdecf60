import type { Knex } from 'knex'

/*
 * SQLite: a read-only view of the words the thread entries' full-text index holds (FTS5's
 * own vocabulary, one row per occurrence, read lazily in word order; it stores nothing).
 * Search looks up there which words begin with the last word typed, and asks for those
 * words instead of the prefix (src/data/search.ts). Nothing on the other databases.
 */

function isSqlite (knex: Knex): boolean {
  return String(knex.client.config.client) === 'sqlite3'
}

export async function up (knex: Knex): Promise<void> {
  if (isSqlite(knex)) await knex.raw("create virtual table if not exists entries_fts_vocab using fts5vocab(entries_fts, 'instance')")
}

export async function down (knex: Knex): Promise<void> {
  if (isSqlite(knex)) await knex.raw('drop table if exists entries_fts_vocab')
}
