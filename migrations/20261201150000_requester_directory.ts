import type { Knex } from 'knex'

/*
 * The requester directory: a note agents keep about a person, and a pointer from a record
 * merged into another (the same person under a second address), so mail from that address
 * still lands on the surviving record. The directory lists requesters by name.
 * On SQLite a new foreign key rebuilds the table, which fails once tickets point at it:
 * there the pointer is a plain column, kept right by the merge verb.
 */
export async function up (knex: Knex): Promise<void> {
  const sqlite = (knex.client as { config: { client: string } }).config.client === 'sqlite3'
  await knex.schema.alterTable('requesters', (t) => {
    t.text('note')
    const mergedInto = t.integer('merged_into_id').unsigned()
    if (!sqlite) mergedInto.references('requesters.id')
    t.bigInteger('updated_at')
    t.index(['name', 'id'], 'requesters_by_name')
  })
}

export async function down (knex: Knex): Promise<void> {
  const sqlite = (knex.client as { config: { client: string } }).config.client === 'sqlite3'
  await knex.schema.alterTable('requesters', (t) => {
    t.dropIndex(['name', 'id'], 'requesters_by_name')
    if (!sqlite) t.dropForeign(['merged_into_id'])
  })
  if (sqlite) {
    for (const column of ['merged_into_id', 'note', 'updated_at']) await knex.raw('alter table ?? drop column ??', ['requesters', column])
    return
  }
  await knex.schema.alterTable('requesters', (t) => {
    t.dropColumn('merged_into_id')
    t.dropColumn('note')
    t.dropColumn('updated_at')
  })
}
