import type { Knex } from 'knex'

// Sign-in throttling now counts in sign_in_throttles and keeps its history in sign_in_events.
export async function up (knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('login_failures')
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.createTable('login_failures', (t) => {
    t.increments('id')
    t.string('subject', 300).notNullable()
    t.bigInteger('created_at').notNullable()
    t.index(['subject', 'created_at'])
  })
}
