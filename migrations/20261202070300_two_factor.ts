import type { Knex } from 'knex'

/*
 * Two-factor sign-in for staff: an agent's TOTP secret (encrypted), whether it is confirmed,
 * the last time step accepted (a code is good once), and ten single-use recovery codes kept
 * as hashes. New tables, so they may point at agents.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.createTable('agent_two_factor', (t) => {
    t.integer('agent_id').unsigned().primary().references('agents.id').onDelete('CASCADE')
    t.string('secret_encrypted', 255).notNullable()
    t.bigInteger('enabled_at')
    t.bigInteger('last_step')
    t.bigInteger('created_at').notNullable()
  })
  await knex.schema.createTable('agent_recovery_codes', (t) => {
    t.increments('id')
    t.integer('agent_id').unsigned().notNullable().references('agents.id').onDelete('CASCADE')
    t.string('code_hash', 64).notNullable()
    t.bigInteger('used_at')
    t.unique(['agent_id', 'code_hash'])
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('agent_recovery_codes')
  await knex.schema.dropTableIfExists('agent_two_factor')
}
