import type { Knex } from 'knex'

/*
 * Mail set aside keeps the message as it arrived, for an administrator to download: its
 * bytes live in the attachment store (content-addressed, like an entry's files), the row
 * names them. raw_size is what was kept; raw_cut says the message was longer than the cap
 * and only its start was kept. Plain columns, so SQLite adds them in place.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('set_aside_mail', (t) => {
    t.string('raw_sha256', 64)
    t.bigInteger('raw_size')
    t.boolean('raw_cut').notNullable().defaultTo(false)
  })
}

export async function down (knex: Knex): Promise<void> {
  const sqlite = (knex.client as { config: { client: string } }).config.client === 'sqlite3'
  if (sqlite) {
    for (const column of ['raw_sha256', 'raw_size', 'raw_cut']) await knex.raw('alter table ?? drop column ??', ['set_aside_mail', column])
    return
  }
  await knex.schema.alterTable('set_aside_mail', (t) => {
    t.dropColumn('raw_sha256')
    t.dropColumn('raw_size')
    t.dropColumn('raw_cut')
  })
}
