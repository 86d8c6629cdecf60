import type { Knex } from 'knex'

/*
 * Senders an administrator blocked: one address, or a whole domain (stored as `@domain`).
 * Mail from them is set aside in set_aside_mail (kind 'blocked'), beside the other mail
 * that became no ticket.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.createTable('blocked_senders', (t) => {
    t.increments('id')
    t.string('pattern', 254).notNullable().unique()
    t.integer('created_by').unsigned().references('agents.id').onDelete('SET NULL')
    t.bigInteger('created_at').notNullable()
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('blocked_senders')
}
