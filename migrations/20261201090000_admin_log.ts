import type { Knex } from 'knex'

/*
 * Every change an administrator makes (a department renamed, an agent disabled, a notice
 * turned off) is one row here: who, when, what, and the state before and after as JSON.
 * Ticket events stay in `events`; these are about the desk itself.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.createTable('admin_events', (t) => {
    t.increments('id')
    t.integer('agent_id').unsigned().references('agents.id').onDelete('SET NULL')
    t.string('subject_type', 32).notNullable()
    t.integer('subject_id')
    t.string('action', 32).notNullable()
    t.text('before_state')
    t.text('after_state')
    t.bigInteger('created_at').notNullable()
    // The log page lists newest first by id, filtered by kind of thing or by admin.
    t.index(['subject_type', 'id'], 'admin_events_subject_type')
    t.index(['subject_type', 'subject_id', 'id'], 'admin_events_subject')
    t.index(['agent_id', 'id'], 'admin_events_agent')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('admin_events')
}
