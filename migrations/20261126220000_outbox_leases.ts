import type { Knex } from 'knex'

export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    // Which worker holds the row until lease_until; a crashed worker's lease simply expires.
    t.string('lease_owner', 64)
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('lease_owner')
  })
}
