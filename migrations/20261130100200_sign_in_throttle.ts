import type { Knex } from 'knex'

export async function up (knex: Knex): Promise<void> {
  // One counter row per account and per address. A sign-in takes a slot with one
  // conditional UPDATE before its password is checked, so parallel attempts on any number
  // of instances cannot get more checks than the limit.
  await knex.schema.createTable('sign_in_throttles', (t) => {
    t.string('subject', 300).primary()
    t.integer('attempts').notNullable().defaultTo(0)
    t.bigInteger('last_attempt_at').notNullable()
    t.index(['last_attempt_at'])
  })

  // What happened at the sign-in form, for administrators to read; never erased by a success.
  await knex.schema.createTable('sign_in_events', (t) => {
    t.increments('id')
    t.string('email', 254).notNullable()
    t.integer('agent_id').unsigned()
    t.string('address', 64).notNullable()
    t.string('outcome', 16).notNullable()
    t.bigInteger('created_at').notNullable()
    t.index(['created_at'])
    t.index(['agent_id', 'created_at'])
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sign_in_events')
  await knex.schema.dropTableIfExists('sign_in_throttles')
}
