import type { Knex } from 'knex'

/*
 * The follow-up step and related tickets. New tables only, so their foreign keys are safe on
 * SQLite too; each goes with its ticket (CASCADE) when the trash purge deletes it for good.
 *
 * - satisfaction_surveys: one per ticket, created when it closes. `invite_due_at` is set
 *   while the invitation waits for its delay and cleared once sent, so the pass reads only
 *   waiting rows by index. Department, agent and team are those of the closure, for the
 *   scores per department, agent and team.
 * - survey_tokens: the hashes of the survey links mailed (a retry mints a fresh token).
 * - ticket_links: two related tickets, stored once with the smaller id first.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.createTable('satisfaction_surveys', (t) => {
    t.increments('id')
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE')
    t.integer('department_id').unsigned().notNullable()
    t.integer('agent_id').unsigned()
    t.integer('team_id').unsigned()
    t.bigInteger('closed_at').notNullable()
    t.bigInteger('invite_due_at')
    t.bigInteger('invited_at')
    t.string('rating', 16)
    t.text('comment')
    t.bigInteger('rated_at')
    t.bigInteger('changed_at')
    t.bigInteger('created_at').notNullable()
    t.unique(['ticket_id'], { indexName: 'satisfaction_surveys_ticket' })
    t.index(['invite_due_at'], 'satisfaction_surveys_invite_due')
    t.index(['department_id', 'agent_id', 'team_id', 'rating'], 'satisfaction_surveys_scores')
  })
  await knex.schema.createTable('survey_tokens', (t) => {
    t.increments('id')
    t.integer('survey_id').unsigned().notNullable().references('satisfaction_surveys.id').onDelete('CASCADE')
    t.string('token_hash', 64).notNullable()
    t.bigInteger('created_at').notNullable()
    t.unique(['token_hash'], { indexName: 'survey_tokens_hash' })
    t.index(['survey_id'], 'survey_tokens_survey')
  })
  await knex.schema.createTable('ticket_links', (t) => {
    t.increments('id')
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE')
    t.integer('linked_ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE')
    t.integer('created_by').unsigned()
    t.bigInteger('created_at').notNullable()
    t.unique(['ticket_id', 'linked_ticket_id'], { indexName: 'ticket_links_pair' })
    t.index(['linked_ticket_id'], 'ticket_links_linked')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTable('ticket_links')
  await knex.schema.dropTable('survey_tokens')
  await knex.schema.dropTable('satisfaction_surveys')
}
