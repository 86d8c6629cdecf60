import type { Knex } from 'knex'

export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => {
    // Whose session it is, so a password reset can end every session of that agent.
    t.integer('agent_id').unsigned()
    t.index(['agent_id'])
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => {
    t.dropIndex(['agent_id'])
    t.dropColumn('agent_id')
  })
}
