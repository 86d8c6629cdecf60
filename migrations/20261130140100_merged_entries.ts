import type { Knex } from 'knex'

export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('thread_entries', (t) => {
    // The ticket an entry was written on before a merge moved it; its requester's page
    // still shows it there.
    t.integer('merged_from_id').unsigned().references('tickets.id')
    // Set when a merge brought the entry to another person's ticket: staff see it, that
    // ticket's requester never does.
    t.boolean('staff_only').notNullable().defaultTo(false)
    t.index(['merged_from_id', 'id'])
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('thread_entries', (t) => {
    t.dropForeign(['merged_from_id'])
  })
  await knex.schema.alterTable('thread_entries', (t) => {
    t.dropIndex(['merged_from_id', 'id'])
    t.dropColumn('merged_from_id')
    t.dropColumn('staff_only')
  })
}
