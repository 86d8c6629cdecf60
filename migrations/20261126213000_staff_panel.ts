import type { Knex } from 'knex'

export async function up (knex: Knex): Promise<void> {
  // Failed sign-ins live in the database so every app instance counts the same attempts.
  await knex.schema.createTable('login_failures', (t) => {
    t.increments('id')
    t.string('subject', 300).notNullable()
    t.bigInteger('created_at').notNullable()
    t.index(['subject', 'created_at'])
  })

  await knex.schema.createTable('password_resets', (t) => {
    t.increments('id')
    t.integer('agent_id').unsigned().notNullable().references('agents.id').onDelete('CASCADE')
    t.string('token_hash', 64).notNullable().unique()
    t.bigInteger('expires_at').notNullable()
    t.bigInteger('used_at')
  })

  await knex.schema.createTable('ticket_viewers', (t) => {
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE')
    t.integer('agent_id').unsigned().notNullable().references('agents.id').onDelete('CASCADE')
    t.bigInteger('seen_at').notNullable()
    t.primary(['ticket_id', 'agent_id'])
  })

  await knex.schema.createTable('canned_responses', (t) => {
    t.increments('id')
    t.string('title', 120).notNullable()
    t.text('body').notNullable()
  })
}

export async function down (knex: Knex): Promise<void> {
  for (const table of ['canned_responses', 'ticket_viewers', 'password_resets', 'login_failures']) {
    await knex.schema.dropTableIfExists(table)
  }
}
