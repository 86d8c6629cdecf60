import type { Knex } from 'knex'

/*
 * The requester directory: a note agents keep about a person, and a pointer from a record
 * merged into another (the same person under a second address), so mail from that address
 * still lands on the surviving record. The directory lists requesters by name.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('requesters', (t) => {
    t.text('note')
    t.integer('merged_into_id').unsigned().references('requesters.id')
    t.bigInteger('updated_at')
    t.index(['name', 'id'], 'requesters_by_name')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('requesters', (t) => {
    t.dropIndex(['name', 'id'], 'requesters_by_name')
    t.dropForeign(['merged_into_id'])
    t.dropColumn('merged_into_id')
    t.dropColumn('note')
    t.dropColumn('updated_at')
  })
}
