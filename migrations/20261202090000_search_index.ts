import type { Knex } from 'knex'

/*
 * Full-text search on the database the desk already has, over three kinds of text: ticket
 * subjects, requesters' names and addresses, and every thread entry (messages, replies,
 * notes). Each database indexes them its own way and keeps the index in the same
 * transaction as the write, so nothing in the application maintains it:
 * - SQLite: FTS5 tables with the rows' own tables as external content, kept by triggers;
 *   the unicode61 tokenizer folds case and accents.
 * - PostgreSQL: GIN expression indexes on to_tsvector('simple', tessera_fold(text)), where
 *   tessera_fold lowercases and strips accents (an immutable function, so it can be indexed).
 * - MySQL/MariaDB: InnoDB FULLTEXT indexes; the utf8mb4 *_ci collations fold accents.
 * Building the indexes here covers the tickets that exist already.
 */

/** Latin, Greek and Vietnamese letters with marks, and the letter each folds to. */
export function accentFolds (): { from: string, to: string } {
  let from = ''
  let to = ''
  const ranges: Array<[number, number]> = [[0xc0, 0x24f], [0x370, 0x3ff], [0x1e00, 0x1eff]]
  for (const [first, last] of ranges) {
    for (let code = first; code <= last; code++) {
      const char = String.fromCodePoint(code).toLowerCase()
      if ([...char].length !== 1 || from.includes(char)) continue
      const base = char.normalize('NFKD').replace(/\p{M}/gu, '')
      if ([...base].length === 1 && base !== char) {
        from += char
        to += base
      }
    }
  }
  return { from, to }
}

function client (knex: Knex): string {
  return (knex.client as { config: { client: string } }).config.client
}

const sqliteTables = [
  { fts: 'tickets_fts', table: 'tickets', columns: ['subject'] },
  { fts: 'requesters_fts', table: 'requesters', columns: ['name', 'email'] },
  { fts: 'entries_fts', table: 'thread_entries', columns: ['body'] }
]

const pgIndexes = [
  { name: 'tickets_search', table: 'tickets', expression: 'subject' },
  { name: 'requesters_search', table: 'requesters', expression: "name || ' ' || email" },
  { name: 'thread_entries_search', table: 'thread_entries', expression: 'body' }
]

const mysqlIndexes = [
  { name: 'tickets_search', table: 'tickets', columns: 'subject' },
  { name: 'requesters_search', table: 'requesters', columns: 'name, email' },
  { name: 'thread_entries_search', table: 'thread_entries', columns: 'body' }
]

export async function up (knex: Knex): Promise<void> {
  switch (client(knex)) {
    case 'sqlite3':
      for (const { fts, table, columns } of sqliteTables) {
        const list = columns.join(', ')
        const values = (row: string): string => columns.map((column) => `${row}.${column}`).join(', ')
        await knex.raw(`create virtual table ${fts} using fts5(${list}, content='${table}', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`)
        await knex.raw(`create trigger ${fts}_insert after insert on ${table} begin insert into ${fts}(rowid, ${list}) values (new.id, ${values('new')}); end`)
        await knex.raw(`create trigger ${fts}_delete after delete on ${table} begin insert into ${fts}(${fts}, rowid, ${list}) values ('delete', old.id, ${values('old')}); end`)
        await knex.raw(`create trigger ${fts}_update after update of ${list} on ${table} begin
          insert into ${fts}(${fts}, rowid, ${list}) values ('delete', old.id, ${values('old')});
          insert into ${fts}(rowid, ${list}) values (new.id, ${values('new')});
        end`)
        await knex.raw(`insert into ${fts}(${fts}) values ('rebuild')`)
      }
      return
    case 'pg': {
      const { from, to } = accentFolds()
      await knex.raw(`create function tessera_fold(text) returns text language sql immutable strict parallel safe
        as $$ select translate(lower($1), '${from}', '${to}') $$`)
      for (const { name, table, expression } of pgIndexes) {
        await knex.raw(`create index ${name} on ${table} using gin (to_tsvector('simple'::regconfig, tessera_fold(${expression})))`)
      }
      return
    }
    default:
      for (const { name, table, columns } of mysqlIndexes) {
        await knex.raw(`alter table ${table} add fulltext index ${name} (${columns})`)
      }
  }
}

export async function down (knex: Knex): Promise<void> {
  switch (client(knex)) {
    case 'sqlite3':
      for (const { fts } of sqliteTables) {
        for (const suffix of ['insert', 'delete', 'update']) await knex.raw(`drop trigger if exists ${fts}_${suffix}`)
        await knex.raw(`drop table if exists ${fts}`)
      }
      return
    case 'pg':
      for (const { name } of pgIndexes) await knex.raw(`drop index if exists ${name}`)
      await knex.raw('drop function if exists tessera_fold(text)')
      return
    default:
      for (const { name, table } of mysqlIndexes) await knex.raw(`alter table ${table} drop index ${name}`)
  }
}
